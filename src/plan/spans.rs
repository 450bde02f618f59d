//! Source positions of every key and value in a YAML document, by path; and the limits that
//! must hold before any parser does the full work.
//!
//! serde gives us typed values but forgets where they came from; the checks that run after
//! deserializing (duplicate ids, timings, scenes) still have to point at a line and column.
//! [`Spans::scan`] walks the document's events once and records a position for each path, e.g.
//! `segments[2].duration`.
//!
//! The walk uses libyaml (the `unsafe-libyaml` crate), the very parser serde_yaml_ng runs, so
//! that both passes see the same document and stop at the same syntax error. The scan runs
//! first and refuses, before serde_yaml_ng reads anything:
//! - collections nested deeper than [`MAX_DEPTH`]: libyaml's scanner does work proportional to
//!   the flow depth for every token (100,000 nested brackets took minutes). The scan stops at
//!   the first collection too deep; libyaml looks at most about 1024 characters ahead of the
//!   event it returns, so the work done before that stays small;
//! - a key given twice in one mapping, at the second one (serde_yaml_ng names the mapping).

use std::collections::HashMap;

/// Deepest nesting of mappings and sequences a plan or preset may have. A plan needs about 8
/// (plan, segments, segment, params, layers, layer, mask, list); serde_yaml_ng's own limit is 128.
pub const MAX_DEPTH: usize = 64;

/// A 1-based line and column in the plan file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Why [`Spans::scan`] refused a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// Mappings and sequences nested deeper than [`MAX_DEPTH`]; where the first one too deep
    /// starts.
    TooDeep(Pos),
    /// A key given twice in one mapping.
    DuplicateKey {
        /// Path of the key (`segments[0].duration`).
        path: String,
        /// The key as written.
        key: String,
        /// The second occurrence.
        at: Pos,
        /// The first occurrence.
        first: Pos,
    },
    /// libyaml refused the syntax; serde_yaml_ng reports it, with its own message.
    Syntax,
}

/// Positions of keys and values by path (`output`, `segments[0].id`, `segments[1].params.hue`).
#[derive(Debug, Default, Clone)]
pub struct Spans {
    keys: HashMap<String, Pos>,
    values: HashMap<String, Pos>,
}

impl Spans {
    /// Index a document and check its nesting depth and keys (see the module doc).
    pub fn scan(src: &str) -> Result<Spans, ScanError> {
        let mut builder = Builder::default();
        let mut events = libyaml::Events::new(src).ok_or(ScanError::Syntax)?;
        loop {
            let (ev, pos) = events.next().map_err(|()| ScanError::Syntax)?;
            if matches!(ev, libyaml::Event::StreamEnd) {
                return Ok(builder.spans);
            }
            builder.on_event(ev, pos)?;
        }
    }

    /// Index a document; one that [`Spans::scan`] refuses yields an empty index.
    pub fn index(src: &str) -> Spans {
        Spans::scan(src).unwrap_or_default()
    }

    /// Position of the value at `path`, else of its key, else of the nearest ancestor that has one.
    pub fn value(&self, path: &str) -> Option<Pos> {
        self.lookup(path, true)
    }

    /// Position of the key at `path` (where it names a mapping key), else of its value, else of
    /// the nearest ancestor.
    pub fn key(&self, path: &str) -> Option<Pos> {
        self.lookup(path, false)
    }

    fn lookup(&self, path: &str, value_first: bool) -> Option<Pos> {
        let mut p = path.to_string();
        loop {
            let (first, second) = if value_first {
                (&self.values, &self.keys)
            } else {
                (&self.keys, &self.values)
            };
            if let Some(pos) = first.get(&p).or_else(|| second.get(&p)) {
                return Some(*pos);
            }
            p = parent(&p)?;
        }
    }
}

/// `a.b[2].c` -> `a.b[2]` -> `a.b` -> `a` -> None.
fn parent(path: &str) -> Option<String> {
    let cut = path.rfind(['.', '['])?;
    Some(path[..cut].to_string())
}

/// The key a mapping entry gets when its key is not a scalar (an alias or a collection).
const ODD_KEY: &str = "?";

enum Frame {
    Map {
        path: String,
        /// The current entry's key, once it has been read.
        key: Option<String>,
        /// Plain, untagged scalar keys seen so far, with their positions.
        seen: HashMap<String, Pos>,
        /// This mapping is itself a key of its parent mapping.
        is_key: bool,
    },
    Seq {
        path: String,
        index: usize,
        is_key: bool,
    },
}

/// Where the next node goes: a key of the innermost mapping, or a value at this path.
enum Slot {
    Key,
    Value(String),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    spans: Spans,
}

impl Builder {
    fn slot(&self) -> Slot {
        match self.stack.last() {
            None => Slot::Value(String::new()),
            Some(Frame::Map { key: None, .. }) => Slot::Key,
            Some(Frame::Map {
                path, key: Some(k), ..
            }) => Slot::Value(join(path, k)),
            Some(Frame::Seq { path, index, .. }) => Slot::Value(format!("{path}[{index}]")),
        }
    }

    /// A node was completed. A key: its mapping now waits for the value. A value: the mapping
    /// waits for its next key, a sequence counts it.
    fn node_done(&mut self, was_key: bool) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) if was_key => *key = Some(ODD_KEY.to_string()),
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    fn on_event(&mut self, ev: libyaml::Event, pos: Pos) -> Result<(), ScanError> {
        use libyaml::Event;
        match ev {
            Event::Scalar { text, plain } => match self.slot() {
                Slot::Key => {
                    if let Some(Frame::Map {
                        path, key, seen, ..
                    }) = self.stack.last_mut()
                    {
                        let full = join(path, &text);
                        if plain {
                            if let Some(&first) = seen.get(&text) {
                                return Err(ScanError::DuplicateKey {
                                    path: full,
                                    key: text,
                                    at: pos,
                                    first,
                                });
                            }
                            seen.insert(text.clone(), pos);
                        }
                        self.spans.keys.entry(full).or_insert(pos);
                        *key = Some(text);
                    }
                }
                Slot::Value(p) => {
                    self.spans.values.entry(p).or_insert(pos);
                    self.node_done(false);
                }
            },
            Event::Alias => match self.slot() {
                Slot::Key => self.node_done(true),
                Slot::Value(p) => {
                    self.spans.values.entry(p).or_insert(pos);
                    self.node_done(false);
                }
            },
            Event::MappingStart | Event::SequenceStart => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(ScanError::TooDeep(pos));
                }
                let (path, is_key) = match self.slot() {
                    Slot::Key => {
                        let parent = match self.stack.last() {
                            Some(Frame::Map { path, .. }) => path.clone(),
                            _ => String::new(),
                        };
                        (join(&parent, ODD_KEY), true)
                    }
                    Slot::Value(p) => {
                        self.spans.values.entry(p.clone()).or_insert(pos);
                        (p, false)
                    }
                };
                self.stack.push(if matches!(ev, Event::MappingStart) {
                    Frame::Map {
                        path,
                        key: None,
                        seen: HashMap::new(),
                        is_key,
                    }
                } else {
                    Frame::Seq {
                        path,
                        index: 0,
                        is_key,
                    }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let was_key = match self.stack.pop() {
                    Some(Frame::Map { is_key, .. } | Frame::Seq { is_key, .. }) => is_key,
                    None => false,
                };
                self.node_done(was_key);
            }
            Event::StreamEnd | Event::Other => {}
        }
        Ok(())
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A minimal safe wrapper over libyaml's event parser: the events the index needs, each with
/// its start position.
mod libyaml {
    use super::Pos;
    use std::mem::MaybeUninit;
    use unsafe_libyaml as unsafe_sys;

    /// One parser event, reduced to what the index needs.
    pub enum Event {
        /// A scalar: its text, and whether it is plain and untagged (so that its text is all
        /// that tells two keys apart).
        Scalar {
            text: String,
            plain: bool,
        },
        Alias,
        SequenceStart,
        SequenceEnd,
        MappingStart,
        MappingEnd,
        StreamEnd,
        /// Stream start, document start and end.
        Other,
    }

    /// The events of one UTF-8 string. The parser lives on the heap (libyaml's own examples
    /// never move it) and reads `input` in place, which outlives it.
    pub struct Events<'a> {
        parser: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
        _input: &'a str,
        failed: bool,
    }

    impl<'a> Events<'a> {
        /// A parser over `input`; None if libyaml cannot allocate its buffers.
        pub fn new(input: &'a str) -> Option<Events<'a>> {
            let mut parser: Box<MaybeUninit<unsafe_sys::yaml_parser_t>> =
                Box::new(MaybeUninit::uninit());
            let p = parser.as_mut_ptr();
            // SAFETY: yaml_parser_initialize fills in the whole struct (it zeroes it first); the
            // input pointer and length describe `input`, which outlives the parser ('a).
            unsafe {
                if unsafe_sys::yaml_parser_initialize(p).fail {
                    return None;
                }
                unsafe_sys::yaml_parser_set_encoding(p, unsafe_sys::YAML_UTF8_ENCODING);
                unsafe_sys::yaml_parser_set_input_string(p, input.as_ptr(), input.len() as u64);
            }
            Some(Events {
                parser,
                _input: input,
                failed: false,
            })
        }

        /// The next event, or Err once libyaml has found an error (it is not called again).
        pub fn next(&mut self) -> Result<(Event, Pos), ()> {
            if self.failed {
                return Err(());
            }
            let mut event = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
            // SAFETY: the parser was initialised in `new` and has not failed; on success
            // yaml_parser_parse fills in `event`, whose scalar data we copy before
            // yaml_event_delete frees it.
            unsafe {
                if unsafe_sys::yaml_parser_parse(self.parser.as_mut_ptr(), event.as_mut_ptr()).fail
                {
                    self.failed = true;
                    return Err(());
                }
                let e = &*event.as_ptr();
                let pos = Pos {
                    line: e.start_mark.line as usize + 1,
                    column: e.start_mark.column as usize + 1,
                };
                let ev = match e.type_ {
                    unsafe_sys::YAML_SCALAR_EVENT => {
                        let s = &e.data.scalar;
                        let bytes = if s.value.is_null() || s.length == 0 {
                            &[][..]
                        } else {
                            std::slice::from_raw_parts(s.value, s.length as usize)
                        };
                        Event::Scalar {
                            text: String::from_utf8_lossy(bytes).into_owned(),
                            plain: s.style == unsafe_sys::YAML_PLAIN_SCALAR_STYLE
                                && s.tag.is_null(),
                        }
                    }
                    unsafe_sys::YAML_ALIAS_EVENT => Event::Alias,
                    unsafe_sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart,
                    unsafe_sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
                    unsafe_sys::YAML_MAPPING_START_EVENT => Event::MappingStart,
                    unsafe_sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
                    unsafe_sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
                    _ => Event::Other,
                };
                unsafe_sys::yaml_event_delete(event.as_mut_ptr());
                Ok((ev, pos))
            }
        }
    }

    impl Drop for Events<'_> {
        fn drop(&mut self) {
            // SAFETY: initialised in `new` (a failed initialisation never builds an Events).
            unsafe { unsafe_sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_keys_and_values() {
        let src = "output: out.mp4\nsegments:\n  - id: a\n    duration: 2\n  - id: b\n    params: {hue: 0.5}\n";
        let s = Spans::index(src);
        assert_eq!(s.key("output"), Some(Pos { line: 1, column: 1 }));
        assert_eq!(s.value("output"), Some(Pos { line: 1, column: 9 }));
        assert_eq!(s.value("segments[0].id"), Some(Pos { line: 3, column: 9 }));
        assert_eq!(
            s.key("segments[0].duration"),
            Some(Pos { line: 4, column: 5 })
        );
        assert_eq!(s.value("segments[1].id"), Some(Pos { line: 5, column: 9 }));
        assert_eq!(
            s.value("segments[1].params.hue"),
            Some(Pos {
                line: 6,
                column: 19
            })
        );
        // A path that is absent falls back to its nearest ancestor.
        assert_eq!(
            s.value("segments[1].params.nope"),
            Some(Pos {
                line: 6,
                column: 13
            })
        );
    }

    #[test]
    fn broken_yaml_gives_empty_index() {
        let s = Spans::index("a: [1, 2\n");
        assert_eq!(s.value("a"), None);
    }

    #[test]
    fn keys_that_are_not_scalars_keep_the_walk_in_step() {
        // An alias and a collection as keys: the values after them keep their own paths.
        let src = "base: &k x\nm:\n  *k : 1\n  ? [a, b]\n  : 2\n  after: 3\n";
        let s = Spans::scan(src).unwrap();
        assert_eq!(
            s.value("m.after"),
            Some(Pos {
                line: 6,
                column: 10
            })
        );
        // A plain key and the same text quoted are not reported (they may differ in type).
        assert!(Spans::scan("a: {1: x, '1': y}\n").is_ok());
        assert!(matches!(
            Spans::scan("a: {k: 1, b: 2, k: 3}\n"),
            Err(ScanError::DuplicateKey { ref path, at: Pos { line: 1, column: 17 }, first: Pos { line: 1, column: 5 }, .. }) if path == "a.k"
        ));
    }

    #[test]
    fn depth_is_counted_over_the_whole_stream() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Spans::scan(&ok).is_ok());
        let deep = format!(
            "a: 1\n---\n{}{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(
            Spans::scan(&deep).unwrap_err(),
            ScanError::TooDeep(Pos {
                line: 3,
                column: MAX_DEPTH + 1
            })
        );
        assert_eq!(Spans::scan("a: [1, 2\n").unwrap_err(), ScanError::Syntax);
    }
}
