//! `farm audio FILE`: tempo, beats and per-frame features of a track, as a summary or JSON.

use super::args::AudioArgs;

pub(super) fn cmd_audio(a: &AudioArgs) -> i32 {
    let Some(ffmpeg) = crate::hw::find_tool("ffmpeg", "FARM_FFMPEG") else {
        eprintln!(
            "error: ffmpeg not found on PATH (or in $FARM_FFMPEG); install it, e.g. `apt-get install -y ffmpeg`"
        );
        return 2;
    };
    let frames = a.frames.map(|f| f as usize);
    let result = match &a.cache {
        Some(dir) => crate::audio::cache::features_for(
            &ffmpeg, &a.file, a.from, a.fps, frames, dir,
        )
        .map(|(f, hit)| {
            eprintln!("{}", hit.log_line());
            f
        }),
        None => crate::audio::decode_and_analyse(&ffmpeg, &a.file, a.from, a.fps, frames),
    };
    match result {
        Ok(f) if a.json => {
            println!("{}", crate::audio::show::json(&f));
            0
        }
        Ok(f) => {
            print!("{}", crate::audio::show::summary(&f, &a.file));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
