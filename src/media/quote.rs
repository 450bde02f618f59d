//! Commands as a user could paste them into a shell (only for showing them: farm never runs a
//! shell). Quoting is the `shlex` crate's ([`shlex::try_quote`]), with two rules around it:
//!
//! - a word of letters, digits and `-_./=:,+@%` prints bare, as farm always printed it (shlex
//!   would quote `,`, `=` and `%`, which a POSIX shell takes literally in an argument: `--only
//!   a,b` stays `--only a,b`);
//! - bytes that are not printable text (control characters such as a newline, and bytes that
//!   are not UTF-8, which a Unix path may hold) are written in ANSI-C quoting, `$'\n'`,
//!   `$'\xff'`, joined to the quoted rest of the word: `/data/a$'\xff'b/plan.yaml`. bash, zsh,
//!   ksh and POSIX.1-2024 `sh` read that back as the same bytes, and a command always stays on
//!   one line (a log's first line is its command).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Whether `w` prints bare: not empty, and only letters, digits and `-_./=:,+@%`.
fn bare(w: &[u8]) -> bool {
    !w.is_empty()
        && w.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&c))
}

/// Quote one word for a POSIX shell (see the module doc).
pub fn shell_quote(s: &str) -> String {
    quote_bytes(s.as_bytes())
}

/// Quote one word given as bytes (a path or an argument that may not be UTF-8).
pub fn shell_quote_os(s: &OsStr) -> String {
    quote_bytes(s.as_bytes())
}

fn quote_bytes(w: &[u8]) -> String {
    if w.is_empty() {
        return "''".to_string();
    }
    if bare(w) {
        return String::from_utf8_lossy(w).into_owned();
    }
    let mut out = String::new();
    for chunk in w.utf8_chunks() {
        let text = chunk.valid();
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c.is_control() {
                push_text(&mut out, &text[start..i]);
                push_ansi_c(&mut out, &text.as_bytes()[i..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        push_text(&mut out, &text[start..]);
        push_ansi_c(&mut out, chunk.invalid());
    }
    out
}

/// Printable text, quoted by shlex.
fn push_text(out: &mut String, text: &str) {
    if !text.is_empty() {
        // Control characters (NUL among them) never get here: they go through push_ansi_c.
        out.push_str(&shlex::try_quote(text).expect("no NUL byte in printable text"));
    }
}

/// Bytes in ANSI-C quoting: `$'\n'`, `$'\xff'`.
fn push_ansi_c(out: &mut String, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    out.push_str("$'");
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
}

/// A command line as a user could paste it into a shell, every byte of every word kept (see
/// the module doc).
pub fn command_line(program: &Path, args: &[impl AsRef<OsStr>]) -> String {
    std::iter::once(program.as_os_str())
        .chain(args.iter().map(AsRef::as_ref))
        .map(shell_quote_os)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn ordinary_words_print_as_they_always_did() {
        for w in [
            "plain-word_1.mp4",
            "a,b,c",
            "--only",
            "x=1",
            "50%",
            "/w/a.mp4",
            "u@h:+",
        ] {
            assert_eq!(shell_quote(w), w);
        }
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("é.mp4"), "'é.mp4'");
    }

    #[test]
    fn a_quote_in_a_word_is_kept() {
        // shlex's form: the part with the quote in double quotes.
        assert_eq!(shell_quote("it's"), "\"it's\"");
        assert_eq!(
            shlex::split(&shell_quote("it's a \"test\"")).unwrap(),
            ["it's a \"test\""]
        );
    }

    #[test]
    fn control_characters_and_bytes_that_are_not_utf8_are_written_as_ansi_c() {
        assert_eq!(shell_quote("a\nb c"), "a$'\\n''b c'");
        assert_eq!(shell_quote("tab\there"), "tab$'\\t'here");
        let raw = OsString::from_vec(b"/data/a\xffb/plan.yaml".to_vec());
        assert_eq!(shell_quote_os(&raw), "/data/a$'\\xff'b/plan.yaml");
        let cmd = command_line(
            Path::new("/usr/bin/ffmpeg"),
            &[raw.as_os_str(), OsStr::new("x y")],
        );
        assert_eq!(cmd, "/usr/bin/ffmpeg /data/a$'\\xff'b/plan.yaml 'x y'");
        assert!(!cmd.contains('\u{fffd}'), "no byte is lost");
    }

    #[test]
    fn bash_reads_every_quoted_word_back_byte_for_byte() {
        let words: Vec<Vec<u8>> = vec![
            b"plain".to_vec(),
            b"a b".to_vec(),
            b"it's".to_vec(),
            b"line\nbreak".to_vec(),
            b"\xff\xfe raw".to_vec(),
            b"$x `y` \\z".to_vec(),
            b"!bang ^caret".to_vec(),
        ];
        let script = words
            .iter()
            .map(|w| format!("printf '%s\\0' {}", shell_quote_os(OsStr::from_bytes(w))))
            .collect::<Vec<_>>()
            .join("\n");
        let Ok(out) = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
        else {
            eprintln!("skipped: bash is not available");
            return;
        };
        let got: Vec<&[u8]> = out
            .stdout
            .split(|&b| b == 0)
            .filter(|w| !w.is_empty())
            .collect();
        let want: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
        assert_eq!(got, want);
    }
}
