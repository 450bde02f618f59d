//! `farm clean`: remove a plan's work dir, if farm made it.

use crate::coordinator;
use std::path::Path;

pub(super) fn cmd_clean(plan_path: &Path) -> i32 {
    use coordinator::layout::Removal;
    match coordinator::clean(plan_path) {
        Ok((layout, Removal::Nothing)) => {
            println!("nothing to clean: {} does not exist", layout.work.display());
            0
        }
        Ok((
            layout,
            Removal::Removed {
                files,
                bytes,
                farm_dir_too,
            },
        )) => {
            println!(
                "removed {} ({files} files, {:.1} MB){}",
                layout.work.display(),
                bytes as f64 / 1e6,
                if farm_dir_too {
                    format!(" and the empty {}", layout.farm_dir().display())
                } else {
                    String::new()
                }
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
