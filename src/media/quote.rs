//! Commands as a user could paste them into a shell (we never run a shell).

use std::ffi::OsStr;
use std::path::Path;

/// Quote one word for a POSIX shell (only for showing commands to a user; we never run a shell).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A command line as a user could paste it into a shell (bytes that are not UTF-8 shown as
/// U+FFFD).
pub fn command_line(program: &Path, args: &[impl AsRef<OsStr>]) -> String {
    std::iter::once(program.display().to_string())
        .chain(
            args.iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned()),
        )
        .map(|w| shell_quote(&w))
        .collect::<Vec<_>>()
        .join(" ")
}
