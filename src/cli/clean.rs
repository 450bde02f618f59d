//! `farm clean`: remove a plan's work dir, if farm made it.

use crate::coordinator;
use std::path::Path;

pub(super) fn cmd_clean(plan_path: &Path) -> i32 {
    use coordinator::layout::Removal;
    let slurm = coordinator::Layout::for_plan_file(plan_path).slurm_dir();
    let had_slurm = slurm.join("submit.sh").is_file();
    let result = coordinator::clean(plan_path);
    if had_slurm && !slurm.exists() {
        println!(
            "removed {} (farm slurm's scripts and Slurm's logs)",
            slurm.display()
        );
    }
    match result {
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
