//! Audio files for the tagging tests, made by ffmpeg at test time (Debian's `ffmpeg`,
//! installed by `.ci/deps`), and what the tests compare before and after: the audio stream's
//! bytes, the decoded samples, a file's bytes and modification time.

#![allow(dead_code)] // Each test binary uses a different part.

use std::path::{Path, PathBuf};
use std::process::Command;

use lofty::file::TaggedFileExt;

pub fn ffmpeg(args: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg (bash .ci/deps installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A 3-s stereo file (two tones) with a title, an artist and, where the container has one, a
/// cover picture.
pub fn make(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let ext = path.extension().unwrap().to_str().unwrap().to_owned();
    let mut args: Vec<&str> = vec![
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3:sample_rate=44100",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:duration=3:sample_rate=44100",
    ];
    let with_picture = matches!(ext.as_str(), "mp3" | "flac" | "m4a");
    if with_picture {
        args.extend(["-f", "lavfi", "-i", "color=c=red:s=16x16:d=1"]);
    }
    args.extend([
        "-filter_complex",
        "[0:a][1:a]amerge=inputs=2[a]",
        "-map",
        "[a]",
    ]);
    if with_picture {
        args.extend([
            "-map",
            "2:v",
            "-frames:v",
            "1",
            "-c:v",
            "mjpeg",
            "-disposition:v",
            "attached_pic",
        ]);
    }
    match ext.as_str() {
        "m4a" => args.extend(["-c:a", "aac"]),
        "ogg" => args.extend(["-c:a", "libvorbis"]),
        "mp3" => args.extend(["-c:a", "libmp3lame", "-id3v2_version", "3"]),
        "aiff" | "wav" => args.extend(["-write_id3v2", "1"]),
        _ => {}
    }
    args.extend(["-metadata", "title=A title", "-metadata", "artist=Somebody"]);
    args.extend(extra);
    let out = path.to_str().unwrap().to_owned();
    args.push(&out);
    ffmpeg(&args);
    path
}

/// The audio stream's bytes as the demuxer delivers them (every packet, concatenated).
pub fn stream_bytes(path: &Path) -> Vec<u8> {
    ffmpeg(&[
        "-i",
        path.to_str().unwrap(),
        "-map",
        "0:a",
        "-c",
        "copy",
        "-f",
        "data",
        "-",
    ])
}

/// Every decoded sample, all channels, as 32-bit floats.
pub fn decoded(path: &Path) -> Vec<u8> {
    ffmpeg(&[
        "-i",
        path.to_str().unwrap(),
        "-map",
        "0:a",
        "-f",
        "f32le",
        "-",
    ])
}

/// The file's bytes and modification time.
pub fn state(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

/// Every tag item of the file as lofty reads it (a generic view of each tag: ID3v2, ID3v1,
/// RIFF INFO, Vorbis comments, ilst) and its pictures, but the genre, the mood and our fields
/// (what `genrescope tag` writes).
pub fn other_tags(path: &Path) -> Vec<String> {
    let tagged = lofty::probe::Probe::open(path)
        .unwrap()
        .options(lofty::config::ParseOptions::new())
        .read()
        .unwrap();
    let mut items = Vec::new();
    for tag in tagged.tags() {
        for item in tag.items() {
            let line = format!("{:?} {:?} {:?}", tag.tag_type(), item.key(), item.value());
            let ours = [lofty::tag::ItemKey::Genre, lofty::tag::ItemKey::Mood];
            if !ours.contains(&item.key()) && !line.contains("GENRESCOPE") {
                items.push(line);
            }
        }
        items.extend(
            tag.pictures()
                .iter()
                .map(|p| format!("picture {:?}", p.data())),
        );
    }
    items.sort();
    items
}
