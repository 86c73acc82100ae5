//! A check of Ogg comment headers before symphonia reads them. symphonia 0.5 allocates each
//! Vorbis comment (`\x03vorbis`, `OpusTags`) at the length its 32-bit field claims before reading
//! it, so one corrupt field in a small file asks for up to 4 GiB at once, which aborts the
//! process where memory is limited. Here the second packet of every logical stream that starts
//! the file is reassembled from its pages and each length field must fit in that packet.
//! Streams chained later in the file are not checked.

use std::collections::HashMap;
use std::io::Read;

/// The first four bytes of every page.
pub const MAGIC: &[u8; 4] = b"OggS";

/// Largest comment packet checked, in bytes (cover art can make comments a few MiB). A larger
/// one is refused: its length fields could not be bounded without reading it all.
const MAX_PACKET: usize = 16 << 20;

/// Header pages read before giving up looking for comment packets.
const MAX_PAGES: usize = 1024;

/// The page header flag of a stream's first page.
const BEGINNING_OF_STREAM: u8 = 0x02;

/// Reads pages from the source, positioned at the first page's magic, until every stream begun
/// on the first pages has had its comment packet checked. A truncated file is left to symphonia.
pub fn check(source: &mut impl Read) -> Result<(), String> {
    // Per stream serial: packets completed so far and the packet being assembled.
    let mut streams: HashMap<u32, (usize, Vec<u8>)> = HashMap::new();
    let mut unchecked = 0usize;
    for _ in 0..MAX_PAGES {
        let Some(page) = Page::read(source) else {
            return Ok(());
        };
        if page.flags & BEGINNING_OF_STREAM != 0 && !streams.contains_key(&page.serial) {
            streams.insert(page.serial, (0, Vec::new()));
            unchecked += 1;
        }
        let Some((packets, packet)) = streams.get_mut(&page.serial) else {
            continue;
        };
        let mut offset = 0;
        for (end, complete) in page.packet_ends() {
            // Only the first two packets matter: identification, then comments.
            if *packets < 2 {
                packet.extend_from_slice(&page.body[offset..end]);
                if packet.len() > MAX_PACKET {
                    return Err(format!(
                        "malformed Ogg stream: a header packet over {} MiB",
                        MAX_PACKET >> 20
                    ));
                }
            }
            offset = end;
            if complete {
                *packets += 1;
                if *packets == 2 {
                    comment_packet(packet)?;
                    unchecked -= 1;
                }
                packet.clear();
            }
        }
        if unchecked == 0 {
            return Ok(());
        }
    }
    Ok(())
}

/// Checks the length fields of a Vorbis or Opus comment packet (any other codec's is skipped).
fn comment_packet(packet: &[u8]) -> Result<(), String> {
    let body = if let Some(rest) = packet.strip_prefix(b"\x03vorbis") {
        rest
    } else if let Some(rest) = packet.strip_prefix(b"OpusTags") {
        rest
    } else {
        return Ok(());
    };
    let mut fields = Fields { body, at: 0 };
    if !fields.skip_field()? {
        return Ok(());
    }
    let Some(count) = fields.word() else {
        return Ok(());
    };
    for _ in 0..count {
        if !fields.skip_field()? {
            return Ok(());
        }
    }
    Ok(())
}

/// A cursor over a comment packet's little-endian length-prefixed fields.
struct Fields<'a> {
    body: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn word(&mut self) -> Option<u32> {
        let bytes = self.body.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_le_bytes(bytes.try_into().expect("4 bytes")))
    }

    /// Reads a length and skips that many bytes. `Ok(false)` when the packet ends before the
    /// length (symphonia then stops reading without allocating); an error when the bytes run
    /// past the packet.
    fn skip_field(&mut self) -> Result<bool, String> {
        let Some(length) = self.word() else {
            return Ok(false);
        };
        let left = self.body.len() - self.at;
        if length as usize > left {
            return Err(format!(
                "malformed Ogg comment header: a {length}-byte field with {left} bytes left in \
                 its packet"
            ));
        }
        self.at += length as usize;
        Ok(true)
    }
}

/// One page: header fields and body.
struct Page {
    flags: u8,
    serial: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
}

impl Page {
    /// The page at the source's position, or `None` if it is not a whole page.
    fn read(source: &mut impl Read) -> Option<Self> {
        let mut header = [0u8; 27];
        source.read_exact(&mut header).ok()?;
        if &header[..4] != MAGIC {
            return None;
        }
        let mut lacing = vec![0u8; usize::from(header[26])];
        source.read_exact(&mut lacing).ok()?;
        // At most 255 × 255 bytes.
        let mut body = vec![0u8; lacing.iter().map(|&l| usize::from(l)).sum()];
        source.read_exact(&mut body).ok()?;
        Some(Self {
            flags: header[5],
            serial: u32::from_le_bytes(header[14..18].try_into().expect("4 bytes")),
            lacing,
            body,
        })
    }

    /// Where each packet piece on the page ends in the body, and whether the packet ends there
    /// (a lacing value under 255) or continues on the next page.
    fn packet_ends(&self) -> Vec<(usize, bool)> {
        let mut ends = Vec::new();
        let mut end = 0;
        for (i, &l) in self.lacing.iter().enumerate() {
            end += usize::from(l);
            if l < 255 {
                ends.push((end, true));
            } else if i + 1 == self.lacing.len() {
                ends.push((end, false));
            }
        }
        ends
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A page of `serial` holding `packets` (each complete), first page of its stream if `bos`.
    fn page(serial: u32, bos: bool, packets: &[&[u8]]) -> Vec<u8> {
        let mut lacing = Vec::new();
        for packet in packets {
            lacing.extend(std::iter::repeat_n(255u8, packet.len() / 255));
            lacing.push((packet.len() % 255) as u8);
        }
        let mut bytes = MAGIC.to_vec();
        bytes.push(0);
        bytes.push(if bos { BEGINNING_OF_STREAM } else { 0 });
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&serial.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]); // sequence number, CRC (not checked here)
        bytes.push(lacing.len() as u8);
        bytes.extend_from_slice(&lacing);
        for packet in packets {
            bytes.extend_from_slice(packet);
        }
        bytes
    }

    /// A Vorbis comment packet: vendor "v", then comments given as (claimed length, bytes).
    fn comments(entries: &[(u32, &[u8])]) -> Vec<u8> {
        let mut packet = b"\x03vorbis".to_vec();
        packet.extend_from_slice(&1u32.to_le_bytes());
        packet.push(b'v');
        packet.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (length, bytes) in entries {
            packet.extend_from_slice(&length.to_le_bytes());
            packet.extend_from_slice(bytes);
        }
        packet.push(1); // framing bit
        packet
    }

    #[test]
    fn a_comment_longer_than_its_packet_is_an_error() {
        let mut file = page(7, true, &[b"\x01vorbis-identification"]);
        file.extend(page(
            7,
            false,
            &[&comments(&[(3, b"a=b"), (0xf000_0000, b"c=d")])],
        ));
        let err = check(&mut Cursor::new(file)).unwrap_err();
        assert!(
            err.contains("4026531840-byte field with 4 bytes left"),
            "{err}"
        );
    }

    /// An identification page, then `comment` split after 255 bytes over two pages: the first
    /// page's only lacing value is 255, so the packet goes on.
    fn split_over_pages(identification: &[u8], comment: &[u8]) -> Vec<u8> {
        let (first, rest) = comment.split_at(255);
        let mut file = page(1, true, &[identification]);
        let mut continued = page(1, false, &[]);
        continued[26] = 1;
        continued.push(255);
        continued.extend_from_slice(first);
        file.extend(continued);
        file.extend(page(1, false, &[rest]));
        file
    }

    #[test]
    fn a_comment_packet_split_over_pages_is_reassembled() {
        // 300 bytes of comment: the packet continues from one page to the next.
        let text = vec![b'x'; 300];
        let packet = comments(&[(300, &text)]);
        let file = split_over_pages(b"OpusHead-identification", &packet);
        assert_eq!(check(&mut Cursor::new(file)), Ok(()));

        // The same with a lying length is caught across the page boundary.
        let mut bad = packet;
        bad[16..20].copy_from_slice(&302u32.to_le_bytes());
        let file = split_over_pages(b"\x01vorbis-identification", &bad);
        assert!(check(&mut Cursor::new(file)).is_err());
    }

    #[test]
    fn well_formed_truncated_and_other_codecs_pass() {
        let good = comments(&[(3, b"a=b"), (4, b"cd=e")]);
        let mut file = page(3, true, &[b"\x01vorbis-identification"]);
        file.extend(page(3, false, &[&good, b"\x05vorbis-setup"]));
        assert_eq!(check(&mut Cursor::new(file.clone())), Ok(()));
        // Cut inside the comment page: left to symphonia.
        file.truncate(file.len() - 20);
        assert_eq!(check(&mut Cursor::new(file)), Ok(()));
        // A FLAC-in-Ogg stream's second packet is not a Vorbis comment.
        let mut file = page(4, true, &[b"\x7fFLAC-identification"]);
        file.extend(page(4, false, &[&[0x84, 0xff, 0xff, 0xff, 0xff]]));
        assert_eq!(check(&mut Cursor::new(file)), Ok(()));
    }
}
