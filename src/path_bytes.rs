//! Paths as bytes in serde, for the messages between coordinator and worker: serde's own
//! `PathBuf` impl refuses a path that is not UTF-8, and a project folder may have such a name.
//! Use with `#[serde(with = "crate::path_bytes")]` (one path) or
//! `#[serde(with = "crate::path_bytes::vec")]` (a list).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Serialize a path as its bytes.
pub fn serialize<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    p.as_os_str().as_bytes().serialize(s)
}

/// Deserialize a path from its bytes.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    Vec::<u8>::deserialize(d).map(|b| PathBuf::from(OsString::from_vec(b)))
}

/// A list of paths, each as its bytes.
pub mod vec {
    use super::*;

    /// Serialize paths as lists of bytes.
    pub fn serialize<S: Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<&[u8]> = ps.iter().map(|p| p.as_os_str().as_bytes()).collect();
        bytes.serialize(s)
    }

    /// Deserialize paths from lists of bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
        Vec::<Vec<u8>>::deserialize(d).map(|v| {
            v.into_iter()
                .map(|b| PathBuf::from(OsString::from_vec(b)))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "crate::path_bytes")]
        one: PathBuf,
        #[serde(with = "crate::path_bytes::vec")]
        many: Vec<PathBuf>,
    }

    #[test]
    fn paths_that_are_not_utf8_survive_the_channel() {
        let odd = PathBuf::from(OsString::from_vec(b"/p/caf\xe9/new\nline.mp4".to_vec()));
        let t = T {
            one: odd.clone(),
            many: vec![odd.clone(), PathBuf::from("/plain")],
        };
        let (tx, rx) = ipc_channel::ipc::channel::<T>().unwrap();
        tx.send(T {
            one: t.one.clone(),
            many: t.many.clone(),
        })
        .unwrap();
        assert_eq!(rx.recv().unwrap(), t);
    }
}
