//! Sun/NeXT `.au` files (GTZAN's original format), which symphonia does not read: a big-endian
//! header followed by interleaved big-endian samples.

/// The file's first four bytes.
pub const MAGIC: &[u8; 4] = b".snd";

/// Header value meaning "data runs to the end of the file".
const UNKNOWN_SIZE: u32 = u32::MAX;

/// Decoded `.au` audio, interleaved.
#[derive(Debug)]
pub struct AuAudio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    pub channels: usize,
}

/// Parses a whole `.au` file. Supports µ-law, 8/16/24/32-bit linear PCM and 32/64-bit float.
pub fn parse(bytes: &[u8]) -> Result<AuAudio, String> {
    let word = |i: usize| -> Result<u32, String> {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("four bytes")))
            .ok_or_else(|| "truncated .au header".to_owned())
    };
    if bytes.get(..4) != Some(MAGIC) {
        return Err("not an .au file".into());
    }
    let (offset, size, encoding, sample_rate, channels) = (
        word(1)? as usize,
        word(2)?,
        word(3)?,
        word(4)?,
        word(5)? as usize,
    );
    if sample_rate == 0 || channels == 0 {
        return Err(format!(
            ".au header has rate {sample_rate} Hz and {channels} channels"
        ));
    }
    let data = bytes
        .get(offset..)
        .ok_or_else(|| format!(".au data offset {offset} is past the end of the file"))?;
    let data = match size {
        UNKNOWN_SIZE => data,
        size => &data[..(size as usize).min(data.len())],
    };

    let samples: Vec<f32> = match encoding {
        1 => data.iter().map(|&b| mu_law(b)).collect(),
        2 => data.iter().map(|&b| f32::from(b as i8) / 128.0).collect(),
        3 => data
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_be_bytes([b[0], b[1]])) / 32_768.0)
            .collect(),
        4 => data
            .chunks_exact(3)
            .map(|b| (i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8) as f32 / 8_388_608.0)
            .collect(),
        5 => data
            .chunks_exact(4)
            .map(|b| i32::from_be_bytes(b.try_into().expect("four bytes")) as f32 / 2_147_483_648.0)
            .collect(),
        6 => data
            .chunks_exact(4)
            .map(|b| f32::from_be_bytes(b.try_into().expect("four bytes")))
            .collect(),
        7 => data
            .chunks_exact(8)
            .map(|b| f64::from_be_bytes(b.try_into().expect("eight bytes")) as f32)
            .collect(),
        other => return Err(format!("unsupported .au encoding {other}")),
    };
    Ok(AuAudio {
        samples,
        sample_rate,
        channels,
    })
}

/// G.711 µ-law byte to a sample in -1..1.
fn mu_law(byte: u8) -> f32 {
    let byte = !byte;
    let sign = byte & 0x80;
    let exponent = (byte >> 4) & 0x07;
    let mantissa = i32::from(byte & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let value = if sign != 0 { -magnitude } else { magnitude };
    value as f32 / 32_768.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn au_file(encoding: u32, rate: u32, channels: u32, data: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        for word in [28, data.len() as u32, encoding, rate, channels, 0] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn reads_16_bit_pcm_like_gtzan() {
        let data: Vec<u8> = [16_384i16, -32_768, 0]
            .iter()
            .flat_map(|s| s.to_be_bytes())
            .collect();
        let audio = parse(&au_file(3, 22_050, 1, &data)).unwrap();
        assert_eq!((audio.sample_rate, audio.channels), (22_050, 1));
        assert_eq!(audio.samples, vec![0.5, -1.0, 0.0]);
    }

    #[test]
    fn reads_the_other_encodings() {
        let float: Vec<u8> = [0.25f32, -0.5]
            .iter()
            .flat_map(|s| s.to_be_bytes())
            .collect();
        assert_eq!(
            parse(&au_file(6, 8000, 2, &float)).unwrap().samples,
            vec![0.25, -0.5]
        );
        let pcm24 = [0x40, 0, 0, 0xc0, 0, 0];
        assert_eq!(
            parse(&au_file(4, 8000, 1, &pcm24)).unwrap().samples,
            vec![0.5, -0.5]
        );
        // µ-law: 0xff is zero, 0x80 the most positive and 0x00 the most negative step.
        let mu = parse(&au_file(1, 8000, 1, &[0xff, 0x80, 0x00]))
            .unwrap()
            .samples;
        assert_eq!(mu[0], 0.0);
        assert!(
            (mu[1] - 32_124.0 / 32_768.0).abs() < 1e-6
                && (mu[2] + 32_124.0 / 32_768.0).abs() < 1e-6
        );
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(parse(b"RIFF....").is_err());
        assert!(parse(&MAGIC[..]).unwrap_err().contains("truncated"));
        assert!(parse(&au_file(99, 8000, 1, &[0; 4]))
            .unwrap_err()
            .contains("encoding 99"));
        assert!(parse(&au_file(3, 0, 1, &[0; 4])).is_err());
    }
}
