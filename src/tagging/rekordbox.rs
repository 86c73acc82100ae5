//! A rekordbox library XML (`DJ_PLAYLISTS`, the format of rekordbox's "Import library XML"):
//! a `COLLECTION` of `TRACK`s with their genre and the top three genres in `Comments` (with a
//! mood model, then ` · Mood: Sad · Styles: Ambient`: rekordbox's search reads comments), and a
//! `PLAYLISTS` tree whose root holds one playlist with every track.
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <DJ_PLAYLISTS Version="1.0.0">
//!   <PRODUCT Name="genrescope" Version="0.1.0" Company="genrescope"/>
//!   <COLLECTION Entries="1">
//!     <TRACK TrackID="1" Name="Song" Artist="..." Genre="Hip-Hop" Kind="MP3 File" Size="..."
//!            TotalTime="183" Comments="Hip-Hop 71%, R&amp;B / Soul 15%, World 10%"
//!            Location="file://localhost/music/a%20song.mp3"/>
//!   </COLLECTION>
//!   <PLAYLISTS>
//!     <NODE Type="0" Name="ROOT" Count="1">
//!       <NODE Name="genrescope" Type="1" KeyType="0" Entries="1"><TRACK Key="1"/></NODE>
//!     </NODE>
//!   </PLAYLISTS>
//! </DJ_PLAYLISTS>
//! ```

use std::io::Write;
use std::path::Path;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use quick_xml::Writer;

/// One track of the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Absolute path of the file.
    pub path: std::path::PathBuf,
    /// The title, or the file name without extension.
    pub name: String,
    pub artist: Option<String>,
    /// What the genre field says (the top genre, or a person's genre that was kept).
    pub genre: String,
    /// `Hip-Hop 71%, R&B / Soul 15%, World 10%`, then the mood and styles when known
    /// (` · Mood: Sad · Styles: Ambient`).
    pub comments: String,
    /// In bytes.
    pub size: u64,
    /// In seconds.
    pub seconds: f64,
}

/// What percent-encoding leaves alone in a `Location`: RFC 3986's unreserved characters and
/// the path separator. Everything else, spaces, `#`, `%`, `?` and every byte of a non-ASCII
/// character's UTF-8 included, becomes `%XX`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `file://localhost/` followed by the percent-encoded absolute path (as rekordbox writes
/// it: `/Users/a/b c.mp3` becomes `file://localhost/Users/a/b%20c.mp3`).
pub fn location(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let text = absolute.to_string_lossy().replace('\\', "/");
    let text = text.trim_start_matches('/');
    format!("file://localhost/{}", utf8_percent_encode(text, PATH))
}

/// What rekordbox imports, as its manual lists it ("Supported file formats": MP3, AAC, WAV,
/// AIFF, FLAC and Apple Lossless, the last two in M4A), said for each file left out.
pub const IMPORTED: &str =
    "rekordbox imports only MP3, AAC/ALAC (M4A, MP4), WAV, AIFF and FLAC files (not Ogg Vorbis)";

/// Whether rekordbox imports a file, by its extension ([`IMPORTED`]).
pub fn imports(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    matches!(
        ext.as_str(),
        "mp3" | "m4a" | "mp4" | "wav" | "aif" | "aiff" | "flac"
    )
}

/// rekordbox's `Kind` for a file extension (`MP3 File`, `WAV File`, ...).
fn kind(path: &Path) -> String {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_uppercase())
        .unwrap_or_default();
    match ext.as_str() {
        "AIF" => "AIFF File".to_owned(),
        "M4A" | "MP4" => "M4A File".to_owned(),
        "" => "File".to_owned(),
        other => format!("{other} File"),
    }
}

/// Writes the library XML of `tracks` (TrackIDs 1, 2, ... in order).
pub fn write(out: impl Write, tracks: &[Track]) -> std::io::Result<()> {
    let mut xml = Writer::new_with_indent(out, b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    xml.write_event(Event::Start(
        BytesStart::new("DJ_PLAYLISTS").with_attributes([("Version", "1.0.0")]),
    ))?;
    xml.write_event(Event::Empty(BytesStart::new("PRODUCT").with_attributes([
        ("Name", "genrescope"),
        ("Version", env!("CARGO_PKG_VERSION")),
        ("Company", "genrescope"),
    ])))?;
    let entries = tracks.len().to_string();
    xml.write_event(Event::Start(
        BytesStart::new("COLLECTION").with_attributes([("Entries", entries.as_str())]),
    ))?;
    for (i, track) in tracks.iter().enumerate() {
        let id = (i + 1).to_string();
        let size = track.size.to_string();
        let total = format!("{:.0}", track.seconds.round());
        let kind = kind(&track.path);
        let location = location(&track.path);
        let mut element = BytesStart::new("TRACK")
            .with_attributes([("TrackID", id.as_str()), ("Name", track.name.as_str())]);
        if let Some(artist) = &track.artist {
            element.push_attribute(("Artist", artist.as_str()));
        }
        element.extend_attributes([
            ("Genre", track.genre.as_str()),
            ("Kind", kind.as_str()),
            ("Size", size.as_str()),
            ("TotalTime", total.as_str()),
            ("Comments", track.comments.as_str()),
            ("Location", location.as_str()),
        ]);
        xml.write_event(Event::Empty(element))?;
    }
    xml.write_event(Event::End(BytesEnd::new("COLLECTION")))?;
    xml.write_event(Event::Start(BytesStart::new("PLAYLISTS")))?;
    xml.write_event(Event::Start(BytesStart::new("NODE").with_attributes([
        ("Type", "0"),
        ("Name", "ROOT"),
        ("Count", "1"),
    ])))?;
    xml.write_event(Event::Start(BytesStart::new("NODE").with_attributes([
        ("Name", "genrescope"),
        ("Type", "1"),
        ("KeyType", "0"),
        ("Entries", entries.as_str()),
    ])))?;
    for i in 1..=tracks.len() {
        let key = i.to_string();
        xml.write_event(Event::Empty(
            BytesStart::new("TRACK").with_attributes([("Key", key.as_str())]),
        ))?;
    }
    xml.write_event(Event::End(BytesEnd::new("NODE")))?;
    xml.write_event(Event::End(BytesEnd::new("NODE")))?;
    xml.write_event(Event::End(BytesEnd::new("PLAYLISTS")))?;
    xml.write_event(Event::End(BytesEnd::new("DJ_PLAYLISTS")))?;
    xml.into_inner().write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;
    use quick_xml::{Reader, XmlVersion};
    use std::collections::HashMap;
    use std::path::PathBuf;

    #[test]
    fn locations_percent_encode_odd_names() {
        assert_eq!(
            location(Path::new("/music/a b/#1 100% Ünïcødé?.mp3")),
            "file://localhost/music/a%20b/%231%20100%25%20%C3%9Cn%C3%AFc%C3%B8d%C3%A9%3F.mp3"
        );
        assert_eq!(
            location(Path::new("/m/plain-name_1.0~x.flac")),
            "file://localhost/m/plain-name_1.0~x.flac"
        );
        // Relative paths become absolute.
        let here = location(Path::new("x.mp3"));
        assert!(here.starts_with("file://localhost/"), "{here}");
        assert!(here.ends_with("/x.mp3"), "{here}");
        assert!(!here.contains("//x.mp3"), "{here}");
    }

    #[test]
    fn only_the_formats_rekordbox_imports_go_into_its_library() {
        for name in [
            "a.mp3", "b.M4A", "c.wav", "d.aif", "e.aiff", "f.flac", "g.mp4",
        ] {
            assert!(imports(Path::new(name)), "{name}");
        }
        for name in ["a.ogg", "b.au", "c.opus", "d"] {
            assert!(!imports(Path::new(name)), "{name}");
        }
    }

    /// Every element with its attributes (unescaped), in document order, with its depth.
    fn elements(xml: &str) -> Vec<(usize, String, HashMap<String, String>)> {
        let mut reader = Reader::from_str(xml);
        let mut depth = 0;
        let mut found = Vec::new();
        loop {
            let event = reader.read_event().expect("well-formed XML");
            let (element, opens) = match &event {
                Event::Start(e) => (e, true),
                Event::Empty(e) => (e, false),
                Event::End(_) => {
                    depth -= 1;
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let name = element.name().into_inner().to_owned();
            let attributes = element
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        a.key.into_inner().to_owned(),
                        a.normalized_value(XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect();
            found.push((depth, name, attributes));
            if opens {
                depth += 1;
            }
        }
        found
    }

    #[test]
    fn the_library_has_the_dj_playlists_structure_and_escapes_what_it_must() {
        let tracks = vec![
            Track {
                path: PathBuf::from("/music/R&B <mix> \"1\".mp3"),
                name: "R&B <mix> \"1\"".into(),
                artist: Some("A & B".into()),
                genre: "R&B / Soul".into(),
                comments: "R&B / Soul 60%, Hip-Hop 30%, Pop 5%".into(),
                size: 1234,
                seconds: 182.6,
            },
            Track {
                path: PathBuf::from("/music/déjà vu #2.flac"),
                name: "déjà vu #2".into(),
                artist: None,
                genre: "Jazz".into(),
                comments: "Jazz 90%, Blues 5%, Pop 2%".into(),
                size: 99,
                seconds: 30.0,
            },
        ];
        let mut bytes = Vec::new();
        write(&mut bytes, &tracks).unwrap();
        let xml = String::from_utf8(bytes).unwrap();
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            "{xml}"
        );
        let found = elements(&xml);
        let names: Vec<(usize, &str)> = found.iter().map(|(d, n, _)| (*d, n.as_str())).collect();
        assert_eq!(
            names,
            [
                (0, "DJ_PLAYLISTS"),
                (1, "PRODUCT"),
                (1, "COLLECTION"),
                (2, "TRACK"),
                (2, "TRACK"),
                (1, "PLAYLISTS"),
                (2, "NODE"),
                (3, "NODE"),
                (4, "TRACK"),
                (4, "TRACK"),
            ]
        );
        assert_eq!(found[2].2["Entries"], "2");
        let first = &found[3].2;
        assert_eq!(first["TrackID"], "1");
        assert_eq!(first["Name"], "R&B <mix> \"1\"");
        assert_eq!(first["Artist"], "A & B");
        assert_eq!(first["Genre"], "R&B / Soul");
        assert_eq!(first["Comments"], "R&B / Soul 60%, Hip-Hop 30%, Pop 5%");
        assert_eq!(first["Kind"], "MP3 File");
        assert_eq!(first["TotalTime"], "183");
        assert_eq!(
            first["Location"],
            "file://localhost/music/R%26B%20%3Cmix%3E%20%221%22.mp3"
        );
        let second = &found[4].2;
        assert_eq!(second["TrackID"], "2");
        assert!(!second.contains_key("Artist"));
        assert_eq!(
            second["Location"],
            "file://localhost/music/d%C3%A9j%C3%A0%20vu%20%232.flac"
        );
        assert_eq!(second["Kind"], "FLAC File");
        assert_eq!(found[6].2["Name"], "ROOT");
        assert_eq!(found[6].2["Type"], "0");
        assert_eq!(found[7].2["Type"], "1");
        assert_eq!(found[7].2["Entries"], "2");
        assert_eq!(found[8].2["Key"], "1");
        assert_eq!(found[9].2["Key"], "2");
    }
}
