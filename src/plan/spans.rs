//! Source positions of every key and value in a YAML document, by path.
//!
//! serde gives us typed values but forgets where they came from; the checks that run after
//! deserializing (duplicate ids, durations, scenes) still have to point at a line and column.
//! This module walks the document's events once with yaml-rust2's parser (which marks every
//! event) and records a position for each path, e.g. `segments[2].duration`.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column in the plan file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Pos {
    fn from_marker(m: Marker) -> Pos {
        Pos {
            line: m.line().max(1),
            column: m.col() + 1,
        }
    }
}

/// Positions of keys and values by path (`output`, `segments[0].id`, `segments[1].params.hue`).
#[derive(Debug, Default, Clone)]
pub struct Spans {
    keys: HashMap<String, Pos>,
    values: HashMap<String, Pos>,
}

impl Spans {
    /// Index a document. A document that does not parse yields an empty index (serde reports
    /// the syntax error with its own position).
    pub fn index(src: &str) -> Spans {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(src);
        if parser.load(&mut builder, false).is_err() {
            return Spans::default();
        }
        builder.spans
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

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    spans: Spans,
}

impl Builder {
    /// The path of the node that the next event is, or None when it is a mapping key.
    fn next_value_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map { path, key: Some(k) }) => Some(join(path, k)),
            Some(Frame::Seq { path, index }) => Some(format!("{path}[{index}]")),
        }
    }

    /// A value was completed: advance the parent (a map waits for its next key, a sequence counts).
    fn value_done(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos::from_marker(mark);
        match ev {
            Event::Scalar(text, ..) => match self.next_value_path() {
                None => {
                    if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                        let full = join(path, &text);
                        self.spans.keys.entry(full).or_insert(pos);
                        *key = Some(text);
                    }
                }
                Some(p) => {
                    self.spans.values.entry(p).or_insert(pos);
                    self.value_done();
                }
            },
            Event::Alias(..) => {
                if let Some(p) = self.next_value_path() {
                    self.spans.values.entry(p).or_insert(pos);
                }
                self.value_done();
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                // A collection used as a mapping key is not something a plan has; treat it as a
                // value of an unnamed key so that the walk stays balanced.
                let p = self.next_value_path().unwrap_or_default();
                self.spans.values.entry(p.clone()).or_insert(pos);
                let frame = if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map { path: p, key: None }
                } else {
                    Frame::Seq { path: p, index: 0 }
                };
                self.stack.push(frame);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            _ => {}
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
}
