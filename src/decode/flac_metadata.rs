//! A check of FLAC metadata blocks before symphonia reads them. symphonia 0.5 allocates a
//! picture's and a Vorbis comment's length fields before reading them, so a corrupt length in a
//! 100-byte file asks for up to 4 GiB at once (found by the `decode` fuzz target). Here every
//! such length must fit in its block, whose own length is at most 16 MiB.

use std::io::{Read, Seek, SeekFrom};

/// The file's first four bytes.
pub const MAGIC: &[u8; 4] = b"fLaC";

/// Metadata block types with inner length fields.
const VORBIS_COMMENT: u8 = 4;
const PICTURE: u8 = 6;

/// Walks the metadata blocks after the magic (the source is positioned just after it) and
/// rejects a length field that points past its block. A truncated file is left to symphonia.
pub fn check(source: &mut (impl Read + Seek)) -> Result<(), String> {
    loop {
        let Some(header) = read_word(source) else {
            return Ok(());
        };
        let (last, kind) = (header[0] & 0x80 != 0, header[0] & 0x7f);
        let len = u64::from(u32::from_be_bytes([0, header[1], header[2], header[3]]));
        let end = position(source)? + len;
        let mut block = Block { source, end, len };
        let complete = match kind {
            VORBIS_COMMENT => block.vorbis_comment()?,
            PICTURE => block.picture()?,
            _ => true,
        };
        if last || !complete {
            return Ok(());
        }
        source
            .seek(SeekFrom::Start(end))
            .map_err(|e| e.to_string())?;
    }
}

/// One metadata block being checked.
struct Block<'a, S> {
    source: &'a mut S,
    /// Offset of the block's end in the file.
    end: u64,
    /// In bytes.
    len: u64,
}

impl<S: Read + Seek> Block<'_, S> {
    /// Vendor string, comment count, then each comment.
    fn vorbis_comment(&mut self) -> Result<bool, String> {
        if !self.field(u32::from_le_bytes)? {
            return Ok(false);
        }
        let Some(count) = read_word(self.source) else {
            return Ok(false);
        };
        for _ in 0..u32::from_le_bytes(count) {
            if !self.field(u32::from_le_bytes)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Picture type, media type, description, 16 bytes of geometry, data.
    fn picture(&mut self) -> Result<bool, String> {
        Ok(read_word(self.source).is_some()
            && self.field(u32::from_be_bytes)?
            && self.field(u32::from_be_bytes)?
            && self.field(|_| 12)?
            && self.field(u32::from_be_bytes)?)
    }

    /// Reads a 4-byte field, `length` of it the bytes that follow, and skips them. `Ok(false)`
    /// when the file ends first; an error when they run past the block.
    fn field(&mut self, length: impl Fn([u8; 4]) -> u32) -> Result<bool, String> {
        let Some(word) = read_word(self.source) else {
            return Ok(false);
        };
        let skip = length(word);
        if position(self.source)? + u64::from(skip) > self.end {
            return Err(format!(
                "malformed FLAC metadata: a {skip}-byte field in a {}-byte block",
                self.len
            ));
        }
        self.source
            .seek(SeekFrom::Current(i64::from(skip)))
            .map_err(|e| e.to_string())?;
        Ok(true)
    }
}

fn read_word(source: &mut impl Read) -> Option<[u8; 4]> {
    let mut word = [0u8; 4];
    source.read_exact(&mut word).ok().map(|()| word)
}

fn position(source: &mut impl Seek) -> Result<u64, String> {
    source.stream_position().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A metadata block: header (last block, `kind`) and body.
    fn block(kind: u8, body: &[u8]) -> Cursor<Vec<u8>> {
        let len = (body.len() as u32).to_be_bytes();
        let mut bytes = vec![0x80 | kind, len[1], len[2], len[3]];
        bytes.extend_from_slice(body);
        Cursor::new(bytes)
    }

    #[test]
    fn lengths_past_their_block_are_errors() {
        // The decode fuzz target's finding: a picture whose media type claims ~2.3 GB.
        let mut picture = 3u32.to_be_bytes().to_vec();
        picture.extend_from_slice(&0x8a8a_8a8au32.to_be_bytes());
        picture.extend_from_slice(&[0; 40]);
        let err = check(&mut block(PICTURE, &picture)).unwrap_err();
        assert!(
            err.contains("2324335242-byte field in a 48-byte block"),
            "{err}"
        );

        // A Vorbis comment block whose second comment runs past the block.
        let mut comments = 1u32.to_le_bytes().to_vec();
        comments.push(b'v');
        comments.extend_from_slice(&2u32.to_le_bytes());
        comments.extend_from_slice(&3u32.to_le_bytes());
        comments.extend_from_slice(b"a=b");
        comments.extend_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(check(&mut block(VORBIS_COMMENT, &comments)).is_err());
    }

    #[test]
    fn well_formed_and_truncated_blocks_pass() {
        let mut comments = 1u32.to_le_bytes().to_vec();
        comments.push(b'v');
        comments.extend_from_slice(&1u32.to_le_bytes());
        comments.extend_from_slice(&3u32.to_le_bytes());
        comments.extend_from_slice(b"a=b");
        check(&mut block(VORBIS_COMMENT, &comments)).unwrap();
        // Truncated: symphonia reports it.
        check(&mut block(PICTURE, &[0, 0, 0, 3, 0, 0])).unwrap();
        check(&mut Cursor::new(Vec::new())).unwrap();
    }
}
