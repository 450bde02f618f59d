//! An MP4's index read in-process: what ffprobe says about a clip or a joined video (codec,
//! size, pixel format, rate, frame count, duration, audio), from the file's boxes, without
//! starting a process.
//!
//! In-process instead of ffprobe: an ffprobe costs 110-160 ms of wall time on the 2-core
//! machine (most of it loading ffmpeg's 215 shared libraries), this reading well under a
//! millisecond for a clip (`scripts/bench-fixed.sh`, 4 clips of 720p preview: the last clip's
//! check 156 ms -> ~1 ms, the output's verification 126 ms -> ~1 ms).
//!
//! What it reads, and how strictly:
//! - the top-level boxes must tile the file exactly: a box that runs past the end (a truncated
//!   file) is refused, and so is a file with no `moov` (ffmpeg writes it last: a clip cut short
//!   or never finished has none);
//! - `moov` is parsed by `mp4parse` (Mozilla's parser, the one Firefox uses: maintained,
//!   fuzzed, and it keeps the raw sample tables and the `avcC` record), reading only the
//!   `ftyp` and `moov` bytes (the `mdat` is never read);
//! - the first video track: `avc1` (h264) with its `avcC`, whose SPS (`h264-reader`) gives the
//!   coded size after cropping, the chroma format, the bit depth and the range, i.e. ffprobe's
//!   `pix_fmt` (`yuv420p` for 8-bit 4:2:0 limited range, `yuvj420p` for full range); the
//!   sample entry's own width and height must agree;
//! - frames = the samples of `stsz`, which must agree with `stts` and with the chunks of
//!   `stsc`/`stco` (ffprobe's `-count_packets`); every sample's bytes must lie inside an
//!   `mdat` of the file (so a file cut inside its media data is refused even when its index is
//!   whole);
//! - the rate: `mdhd`'s timescale over `stts`'s sample delta, which must be one delta for every
//!   sample (constant rate, as the encoder writes) -- but the last, which the muxer may shorten;
//! - audio: the first audio track, and its duration (`mdhd`).
//!
//! It does not decode: a flipped byte inside a frame passes here, as it passes ffprobe's packet
//! count (the manifest's BLAKE3 digest is what catches changed bytes of a kept clip).

use crate::media::VideoInfo;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// What the index says: ffprobe's fields, and the audio track's duration.
#[derive(Debug, Clone, PartialEq)]
pub struct Mp4Info {
    /// Codec, size, pixel format, rate, frames (samples), the video track's duration, whether
    /// there is audio: the fields of `ffprobe -count_packets`.
    pub video: VideoInfo,
    /// The audio track's duration in seconds (None: no audio track).
    pub audio_secs: Option<f64>,
}

/// A top-level box: its type, where its payload starts and ends (file offsets).
#[derive(Debug, Clone, Copy)]
struct TopBox {
    kind: [u8; 4],
    start: u64,
    payload: u64,
    end: u64,
}

fn name(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

/// The top-level boxes of `f` (`len` bytes); an error when they do not tile the file.
fn top_boxes(f: &mut std::fs::File, len: u64) -> Result<Vec<TopBox>, String> {
    let mut out = Vec::new();
    let mut at = 0u64;
    while at < len {
        if len - at < 8 {
            return Err(format!(
                "{} stray bytes at the end (byte {at}): the file is cut short",
                len - at
            ));
        }
        f.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
        let mut h = [0u8; 16];
        let n = if len - at >= 16 { 16 } else { 8 };
        f.read_exact(&mut h[..n]).map_err(|e| e.to_string())?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let kind = [h[4], h[5], h[6], h[7]];
        let (size, header) = match size32 {
            0 => (len - at, 8), // to the end of the file
            1 if n == 16 => (
                u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]),
                16,
            ),
            1 => return Err(format!("the box at byte {at} is cut short")),
            s => (s, 8),
        };
        if size < header {
            return Err(format!(
                "the '{}' box at byte {at} has an impossible size ({size})",
                name(&kind)
            ));
        }
        let end = at.checked_add(size).ok_or("a box size overflows")?;
        if end > len {
            return Err(format!(
                "the '{}' box at byte {at} runs {} bytes past the end of the file ({len} bytes): the file is truncated",
                name(&kind),
                end - len
            ));
        }
        out.push(TopBox {
            kind,
            start: at,
            payload: at + header,
            end,
        });
        at = end;
    }
    Ok(out)
}

/// ffprobe's name of the pixel format of an SPS (the formats farm can meet; others by their
/// parts).
fn pix_fmt(sps: &h264_reader::nal::sps::SeqParameterSet) -> String {
    use h264_reader::nal::sps::ChromaFormat;
    let c = &sps.chroma_info;
    let full = sps
        .vui_parameters
        .as_ref()
        .and_then(|v| v.video_signal_type.as_ref())
        .is_some_and(|s| s.video_full_range_flag);
    let (luma, chroma) = (c.bit_depth_luma_minus8 + 8, c.bit_depth_chroma_minus8 + 8);
    let sub = match c.chroma_format {
        ChromaFormat::Monochrome => "gray",
        ChromaFormat::YUV420 => "420",
        ChromaFormat::YUV422 => "422",
        ChromaFormat::YUV444 => "444",
        ChromaFormat::Invalid(_) => "invalid",
    };
    match (sub, luma, chroma, full) {
        ("gray", 8, _, _) => "gray".into(),
        (s, 8, 8, false) => format!("yuv{s}p"),
        (s, 8, 8, true) => format!("yuvj{s}p"),
        (s, l, _, _) => format!("yuv{s}p{l}"),
    }
}

/// Size and pixel format from an `avcC` record (its first SPS).
fn avc_config(avcc: &[u8]) -> Result<((u32, u32), String), String> {
    use h264_reader::avcc::AvcDecoderConfigurationRecord;
    use h264_reader::nal::{Nal, RefNal};
    let rec = AvcDecoderConfigurationRecord::try_from(avcc)
        .map_err(|e| format!("its avcC record cannot be read: {e:?}"))?;
    let sps = rec
        .sequence_parameter_sets()
        .next()
        .ok_or("its avcC record has no SPS")?
        .map_err(|e| format!("its SPS cannot be read: {e:?}"))?;
    let nal = RefNal::new(sps, &[], true);
    let sps = h264_reader::nal::sps::SeqParameterSet::from_bits(nal.rbsp_bits())
        .map_err(|e| format!("its SPS cannot be read: {e:?}"))?;
    let dims = sps
        .pixel_dimensions()
        .map_err(|e| format!("its SPS has no size: {e:?}"))?;
    Ok((dims, pix_fmt(&sps)))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A track's samples (count) after checking that stsz, stts and stsc/stco agree and that every
/// sample lies inside one of `mdats` (payload ranges); `what` names the track.
fn check_samples(t: &mp4parse::Track, what: &str, mdats: &[(u64, u64)]) -> Result<u64, String> {
    let stsz = t
        .stsz
        .as_ref()
        .ok_or(format!("the {what} track has no stsz"))?;
    let stts = t
        .stts
        .as_ref()
        .ok_or(format!("the {what} track has no stts"))?;
    let stsc = t
        .stsc
        .as_ref()
        .ok_or(format!("the {what} track has no stsc"))?;
    let stco = t
        .stco
        .as_ref()
        .ok_or(format!("the {what} track has no stco/co64"))?;
    let timed: u64 = stts.samples.iter().map(|s| s.sample_count as u64).sum();
    let count = if stsz.sample_size == 0 {
        stsz.sample_sizes.len() as u64
    } else {
        timed
    };
    if timed != count {
        return Err(format!(
            "its {what} index disagrees with itself: {count} sample sizes, {timed} sample times"
        ));
    }
    let size = |i: u64| -> u64 {
        if stsz.sample_size == 0 {
            stsz.sample_sizes[i as usize] as u64
        } else {
            stsz.sample_size as u64
        }
    };
    let inside = |off: u64, len: u64| {
        off.checked_add(len)
            .is_some_and(|end| mdats.iter().any(|&(s, e)| off >= s && end <= e))
    };
    let chunks = stco.offsets.len() as u64;
    let mut sample = 0u64;
    for (k, run) in stsc.samples.iter().enumerate() {
        let first = run.first_chunk as u64;
        let last = stsc
            .samples
            .get(k + 1)
            .map(|n| n.first_chunk as u64)
            .unwrap_or(chunks + 1);
        if first == 0 || last < first || last > chunks + 1 {
            return Err("its sample-to-chunk table is out of order".into());
        }
        for chunk in first..last {
            let mut off = stco.offsets[(chunk - 1) as usize];
            for _ in 0..run.samples_per_chunk {
                if sample >= count {
                    return Err(format!(
                        "its {what} chunks hold more samples than its {count} sample sizes"
                    ));
                }
                let len = size(sample);
                if !inside(off, len) {
                    return Err(format!(
                        "{what} sample {sample} ({len} bytes at byte {off}) is not inside the file's media data: the file is truncated or damaged"
                    ));
                }
                off += len;
                sample += 1;
            }
        }
    }
    if sample != count {
        return Err(format!(
            "its {what} chunks hold {sample} samples, its sample sizes {count}"
        ));
    }
    Ok(count)
}

/// Read the index of the MP4 at `path`: what ffprobe would say of it (see the module doc for
/// what is checked on the way). The error says what is wrong, in words.
pub fn read(path: &Path) -> Result<Mp4Info, String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let boxes = top_boxes(&mut f, len)?;
    let moov = boxes
        .iter()
        .find(|b| &b.kind == b"moov")
        .ok_or("it has no moov box (its index, which ffmpeg writes last): the file is truncated or was never finished")?;
    if boxes.iter().filter(|b| &b.kind == b"moov").count() > 1 {
        return Err("it has more than one moov box".into());
    }
    let mdats: Vec<(u64, u64)> = boxes
        .iter()
        .filter(|b| &b.kind == b"mdat")
        .map(|b| (b.payload, b.end))
        .collect();
    // mp4parse reads ftyp + moov only (a Read, it would otherwise read through the mdat).
    let mut bytes = Vec::with_capacity((moov.end - moov.start) as usize + 64);
    for b in boxes
        .iter()
        .filter(|b| &b.kind == b"ftyp" || &b.kind == b"moov")
    {
        f.seek(SeekFrom::Start(b.start))
            .map_err(|e| e.to_string())?;
        (&mut f)
            .take(b.end - b.start)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
    }
    let ctx = mp4parse::read_mp4(&mut std::io::Cursor::new(&bytes))
        .map_err(|e| format!("its index (moov) cannot be read: {e:?}"))?;
    let video = ctx
        .tracks
        .iter()
        .find(|t| t.track_type == mp4parse::TrackType::Video)
        .ok_or("it has no video track")?;
    let entry = video
        .stsd
        .as_ref()
        .and_then(|d| d.descriptions.first())
        .ok_or("its video track has no sample description")?;
    let mp4parse::SampleEntry::Video(v) = entry else {
        return Err("its video track's sample description is not video".into());
    };
    let (codec, (width, height), pix) = match (&v.codec_type, &v.codec_specific) {
        (mp4parse::CodecType::H264, mp4parse::VideoCodecSpecific::AVCConfig(avcc)) => {
            let (dims, pix) = avc_config(avcc)?;
            if dims != (v.width as u32, v.height as u32) {
                return Err(format!(
                    "its sample entry says {}x{}, its SPS {}x{}",
                    v.width, v.height, dims.0, dims.1
                ));
            }
            ("h264".to_string(), dims, pix)
        }
        (other, _) => (
            format!("{other:?}").to_lowercase(),
            (v.width as u32, v.height as u32),
            String::new(),
        ),
    };
    let frames = check_samples(video, "video", &mdats)?;
    let timescale = video.timescale.map(|t| t.0).unwrap_or(0);
    let stts = video.stts.as_ref().ok_or("the video track has no stts")?;
    // One delta for every sample but the last (which the muxer may shorten): constant rate.
    let deltas: Vec<u64> = stts
        .samples
        .iter()
        .filter(|s| s.sample_count > 0)
        .map(|s| s.sample_delta as u64)
        .collect();
    let delta = deltas.first().copied().unwrap_or(0);
    let constant = match stts.samples.iter().filter(|s| s.sample_count > 0).count() {
        0 | 1 => true,
        2 => stts.samples.last().is_some_and(|s| s.sample_count == 1),
        _ => false,
    };
    let fps = if timescale > 0 && delta > 0 && constant {
        let g = gcd(timescale, delta);
        (
            u32::try_from(timescale / g).unwrap_or(0),
            u32::try_from(delta / g).unwrap_or(1),
        )
    } else {
        (0, 1)
    };
    let secs = |t: &mp4parse::Track| {
        let ts = t.timescale.map(|t| t.0).filter(|&s| s > 0)?;
        Some(t.duration?.0 as f64 / ts as f64)
    };
    let audio = ctx
        .tracks
        .iter()
        .find(|t| t.track_type == mp4parse::TrackType::Audio);
    if let Some(a) = audio {
        check_samples(a, "audio", &mdats)?;
    }
    Ok(Mp4Info {
        video: VideoInfo {
            codec,
            width,
            height,
            pix_fmt: pix,
            fps,
            frames,
            duration: secs(video),
            has_audio: audio.is_some(),
        },
        audio_secs: audio.and_then(secs),
    })
}

/// A finished clip checked against what it must be (`s`, `frames`): [`read`], then
/// [`crate::media::check_clip`], the checks an ffprobe of it had to pass. The reason when not.
pub fn check_clip(
    path: &Path,
    s: &crate::media::EncoderSettings,
    frames: u64,
) -> Result<(), String> {
    let info = read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    crate::media::check_clip(&info.video, s, frames).map_err(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ffmpeg(args: &[&str]) -> bool {
        std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A 12-frame 64x48 clip as farm's encoder writes it (libx264, yuv420p, tv range), and the
    /// same with a sine soundtrack.
    fn clips(dir: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
        let (v, a) = (dir.join("v.mp4"), dir.join("a.mp4"));
        let enc = [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-color_range",
            "tv",
        ];
        let src = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=12:duration=1"];
        let mut args: Vec<&str> = src.to_vec();
        args.extend(enc);
        args.push(v.to_str()?);
        if !ffmpeg(&args) {
            eprintln!("skipped: no ffmpeg with libx264");
            return None;
        }
        let mut args: Vec<&str> = src.to_vec();
        args.extend(["-f", "lavfi", "-i", "sine=duration=1"]);
        args.extend(enc);
        args.extend(["-c:a", "aac", "-movflags", "+faststart"]);
        args.push(a.to_str()?);
        assert!(ffmpeg(&args));
        Some((v, a))
    }

    #[test]
    fn a_clip_reads_as_ffprobe_says() {
        let d = tempfile::tempdir().unwrap();
        let Some((v, a)) = clips(d.path()) else {
            return;
        };
        let i = read(&v).unwrap();
        assert_eq!(
            (
                i.video.codec.as_str(),
                i.video.width,
                i.video.height,
                i.video.pix_fmt.as_str()
            ),
            ("h264", 64, 48, "yuv420p")
        );
        assert_eq!((i.video.frames, i.video.fps), (12, (12, 1)));
        assert!(!i.video.has_audio && i.audio_secs.is_none());
        assert!((i.video.duration.unwrap() - 1.0).abs() < 0.01, "{i:?}");
        let i = read(&a).unwrap();
        assert_eq!(i.video.frames, 12);
        assert!(i.video.has_audio);
        assert!((i.audio_secs.unwrap() - 1.0).abs() < 0.05, "{i:?}");
    }

    #[test]
    fn a_truncated_or_damaged_file_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let Some((v, a)) = clips(d.path()) else {
            return;
        };
        // moov last (v): cut anywhere, there is no index.
        let bytes = std::fs::read(&v).unwrap();
        let cut = d.path().join("cut.mp4");
        for keep in [0, 7, 100, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&cut, &bytes[..keep]).unwrap();
            let e = read(&cut).unwrap_err();
            assert!(
                e.contains("truncated") || e.contains("cut short") || e.contains("no moov"),
                "{keep}: {e}"
            );
        }
        // moov first (a, faststart): cut inside the media data, the index is whole but its
        // samples are not in the file.
        let bytes = std::fs::read(&a).unwrap();
        let mut cut_at = bytes.len() - 10;
        std::fs::write(&cut, &bytes[..cut_at]).unwrap();
        assert!(read(&cut).unwrap_err().contains("truncated"));
        // The mdat's size patched to the shorter file: the boxes tile, the samples do not fit.
        let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap() - 4;
        let size = u32::from_be_bytes(bytes[mdat..mdat + 4].try_into().unwrap());
        cut_at = mdat + size as usize - 500;
        let mut patched = bytes[..cut_at].to_vec();
        patched[mdat..mdat + 4].copy_from_slice(&(size - 500).to_be_bytes());
        std::fs::write(&cut, &patched).unwrap();
        let e = read(&cut).unwrap_err();
        assert!(e.contains("not inside the file's media data"), "{e}");
        // Not an MP4 at all.
        std::fs::write(&cut, b"this is not a video, it is a text file\n").unwrap();
        assert!(read(&cut).is_err());
        // A damaged index: the moov's contents overwritten.
        let mut bad = std::fs::read(&v).unwrap();
        let moov = bad.windows(4).rposition(|w| w == b"moov").unwrap();
        for b in &mut bad[moov + 20..moov + 300] {
            *b = 0xff;
        }
        std::fs::write(&cut, &bad).unwrap();
        assert!(read(&cut).is_err());
    }
}
