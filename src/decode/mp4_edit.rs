//! The edit list of an MP4 file's audio track (`moov/trak/edts/elst`, read by Mozilla's
//! `mp4parse`): where the music starts after the encoder's priming samples (1024 for ffmpeg's
//! AAC, 2112 for Apple's) and how long it lasts. symphonia 0.5 decodes MP4 without it, so an
//! AAC file came out 23–48 ms late, which moves every model window against the music (the
//! same file as WAV and as AAC got answers 0.17 apart in L1).

use std::io::{Read, Seek, SeekFrom};

/// The audio track's edit, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edit {
    /// Decoded audio before the music starts.
    pub start_s: f64,
    /// Length of the music, when the edit list says.
    pub duration_s: Option<f64>,
}

impl Edit {
    /// Frames to drop at the start and frames in all (start included), at `rate` Hz.
    pub fn frames(&self, rate: u32) -> (usize, Option<usize>) {
        let frames = |seconds: f64| (seconds * f64::from(rate)).round() as usize;
        let start = frames(self.start_s);
        (start, self.duration_s.map(|d| start + frames(d)))
    }
}

/// Whether `header` (a file's first 8 bytes) starts an MP4 file: a box named `ftyp`.
pub fn is_mp4(header: &[u8]) -> bool {
    header.get(4..8) == Some(b"ftyp")
}

/// The first audio track's edit of the MP4 file in `source` (which is left at its start);
/// `None` when the file has no readable edit list for it: then nothing is trimmed.
pub fn audio_edit<S: Read + Seek>(source: &mut S) -> Option<Edit> {
    let context = mp4parse::read_mp4(source);
    source.seek(SeekFrom::Start(0)).ok()?;
    let context = context.ok()?;
    let track = context
        .tracks
        .iter()
        .find(|t| t.track_type == mp4parse::TrackType::Audio)?;
    let media_time = track.media_time?;
    let timescale = track.timescale?.0;
    if timescale == 0 {
        return None;
    }
    let movie_timescale = context.timescale.map(|t| t.0).filter(|&t| t > 0);
    let duration_s = track
        .edited_duration
        .zip(movie_timescale)
        .map(|(d, scale)| d.0 as f64 / scale as f64)
        .filter(|&d| d > 0.0);
    Some(Edit {
        start_s: media_time.0 as f64 / timescale as f64,
        duration_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_at_the_decoded_rate() {
        let edit = Edit {
            start_s: 1024.0 / 44_100.0,
            duration_s: Some(1.0),
        };
        assert_eq!(edit.frames(44_100), (1024, Some(45_124)));
        let open_ended = Edit {
            duration_s: None,
            ..edit
        };
        assert_eq!(open_ended.frames(44_100), (1024, None));
    }

    #[test]
    fn only_an_ftyp_box_is_mp4() {
        assert!(is_mp4(b"\0\0\0\x20ftypM4A "));
        assert!(!is_mp4(b"RIFF\0\0\0\0WAVE"));
        assert!(!is_mp4(b"ftyp"));
    }

    #[test]
    fn garbage_has_no_edit_and_stays_at_its_start() {
        let mut source = std::io::Cursor::new(b"\0\0\0\x10ftypjunkjunkjunk".to_vec());
        assert_eq!(audio_edit(&mut source), None);
        assert_eq!(source.position(), 0);
    }
}
