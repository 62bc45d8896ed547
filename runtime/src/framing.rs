//! Finds message boundaries in a gRPC HTTP/2 body: each message is a 5-byte prefix
//! (compressed flag, big-endian length) and its payload, split across data frames at will.

/// The prefix of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessagePrefix {
    /// Whether the payload is compressed with the call's `grpc-encoding`.
    pub(crate) compressed: bool,
    /// Payload length in bytes, as sent.
    pub(crate) length: usize,
}

/// Reads prefixes from body chunks as they arrive.
#[derive(Debug, Default)]
pub(crate) struct MessageFraming {
    prefix: [u8; 5],
    prefix_len: usize,
    payload_left: usize,
}

impl MessageFraming {
    /// Feeds the next chunk; calls `on_message` for every prefix it completes.
    pub(crate) fn feed(&mut self, mut chunk: &[u8], mut on_message: impl FnMut(MessagePrefix)) {
        while !chunk.is_empty() {
            if self.payload_left > 0 {
                let skipped = self.payload_left.min(chunk.len());
                self.payload_left -= skipped;
                chunk = &chunk[skipped..];
                continue;
            }
            let wanted = (5 - self.prefix_len).min(chunk.len());
            self.prefix[self.prefix_len..self.prefix_len + wanted]
                .copy_from_slice(&chunk[..wanted]);
            self.prefix_len += wanted;
            chunk = &chunk[wanted..];
            if self.prefix_len == 5 {
                self.prefix_len = 0;
                let length = u32::from_be_bytes([
                    self.prefix[1],
                    self.prefix[2],
                    self.prefix[3],
                    self.prefix[4],
                ]) as usize;
                self.payload_left = length;
                on_message(MessagePrefix {
                    compressed: self.prefix[0] & 1 == 1,
                    length,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(compressed: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![u8::from(compressed)];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn messages_split_anyhow_are_found_once_each() {
        let mut body = frame(false, b"hello");
        body.extend(frame(true, &[7; 300]));
        body.extend(frame(false, b""));
        for chunk_size in [1, 2, 3, 5, 7, 64, 1000] {
            let mut framing = MessageFraming::default();
            let mut found = Vec::new();
            for chunk in body.chunks(chunk_size) {
                framing.feed(chunk, |prefix| found.push(prefix));
            }
            assert_eq!(
                found,
                [
                    MessagePrefix {
                        compressed: false,
                        length: 5
                    },
                    MessagePrefix {
                        compressed: true,
                        length: 300
                    },
                    MessagePrefix {
                        compressed: false,
                        length: 0
                    },
                ],
                "chunks of {chunk_size}"
            );
        }
    }
}
