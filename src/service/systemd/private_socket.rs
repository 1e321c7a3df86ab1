//! The manager's private socket (`$XDG_RUNTIME_DIR/systemd/private`, `/run/systemd/private`) for
//! zbus.
//!
//! The socket speaks D-Bus peer to peer, but systemd stamps every message it sends there with
//! the sender `org.freedesktop.systemd1` (`sd_bus_set_sender`), a well-known name where the D-Bus
//! specification and zbus expect a unique name: zbus accepts such a header and then panics in its
//! socket reader when it reads the field back, so every call times out. This wrapper rewrites
//! that one header field before zbus sees the message, in place and with the same length, to
//! the unique-name form `:org.freedesktop.systemd` (a leading `:` and the last character
//! dropped), so nothing else in the message moves. Everything else (authentication, reading,
//! writing) is zbus's own Tokio implementation.

use std::io;
use std::os::fd::OwnedFd;

use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use zbus::Message;
use zbus::connection::socket::{ReadHalf, Socket, Split};
use zbus::zvariant::Endian;
use zbus::zvariant::serialized::{Context, Data};

/// A connected private socket.
#[derive(Debug)]
pub struct PrivateSocket(pub UnixStream);

impl Socket for PrivateSocket {
    type ReadHalf = SenderFixingReadHalf;
    type WriteHalf = OwnedWriteHalf;

    fn split(self) -> Split<Self::ReadHalf, Self::WriteHalf> {
        let (read, write) = self.0.into_split();
        Split::new(SenderFixingReadHalf(read), write)
    }
}

/// The read half that repairs the sender field.
#[derive(Debug)]
pub struct SenderFixingReadHalf(OwnedReadHalf);

#[zbus::export::async_trait::async_trait]
impl ReadHalf for SenderFixingReadHalf {
    async fn receive_message(
        &mut self,
        seq: u64,
        already_received_bytes: &mut Vec<u8>,
        already_received_fds: &mut Vec<OwnedFd>,
    ) -> zbus::Result<Message> {
        let message = self
            .0
            .receive_message(seq, already_received_bytes, already_received_fds)
            .await?;
        Ok(fix_sender(message))
    }

    async fn recvmsg(&mut self, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
        self.0.recvmsg(buf).await
    }

    fn can_pass_unix_fd(&self) -> bool {
        self.0.can_pass_unix_fd()
    }

    async fn peer_credentials(&mut self) -> io::Result<zbus::fdo::ConnectionCredentials> {
        self.0.peer_credentials().await
    }
}

/// Returns `message` with a well-known sender turned into a unique name of the same length.
fn fix_sender(message: Message) -> Message {
    let data = message.data();
    if !data.fds().is_empty() {
        return message;
    }
    let little = data.first() == Some(&b'l');
    let mut bytes: Vec<u8> = data.to_vec();
    if !patch_sender(&mut bytes, little) {
        return message;
    }
    let endian = if little { Endian::Little } else { Endian::Big };
    let data = Data::new(bytes, Context::new_dbus(endian, 0));
    // SAFETY: `from_bytes` is unsafe only because arbitrary bytes may not be a valid message.
    // These are the bytes of a message zbus has just parsed, with the characters of one string
    // replaced by as many valid unique-name characters: the encoding is unchanged.
    match unsafe { Message::from_bytes(data) } {
        Ok(fixed) => fixed,
        Err(_) => message,
    }
}

fn read_u32(bytes: &[u8], at: usize, little: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

fn align(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// Rewrites the SENDER header field (code 7) when it is not a unique name. Returns whether it
/// changed anything. Stops at the first field type it does not know.
pub fn patch_sender(bytes: &mut [u8], little: bool) -> bool {
    const SENDER: u8 = 7;
    let Some(fields_len) = read_u32(bytes, 12, little) else {
        return false;
    };
    let end = 16 + fields_len as usize;
    if end > bytes.len() {
        return false;
    }
    let mut p = 16;
    while p < end {
        p = align(p, 8);
        if p + 2 > end {
            return false;
        }
        let code = bytes[p];
        let sig_len = bytes[p + 1] as usize;
        let Some(sig) = bytes.get(p + 2..p + 2 + sig_len) else {
            return false;
        };
        let sig = sig.to_vec();
        p += 2 + sig_len + 1;
        match sig.as_slice() {
            b"s" | b"o" => {
                p = align(p, 4);
                let Some(len) = read_u32(bytes, p, little) else {
                    return false;
                };
                let start = p + 4;
                let stop = start + len as usize;
                if stop >= bytes.len() {
                    return false;
                }
                if code == SENDER {
                    let name = &mut bytes[start..stop];
                    if name.first() == Some(&b':')
                        || name == b"org.freedesktop.DBus"
                        || name.len() < 4
                    {
                        return false;
                    }
                    // `org.freedesktop.systemd1` -> `:org.freedesktop.systemd`
                    name.copy_within(0..name.len() - 1, 1);
                    name[0] = b':';
                    for c in name.iter_mut().skip(1) {
                        if !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-' || *c == b'.') {
                            *c = b'_';
                        }
                    }
                    let last = name.len() - 1;
                    if name[last] == b'.' {
                        name[last] = b'_';
                    }
                    return true;
                }
                p = stop + 1;
            }
            b"g" => {
                let Some(&len) = bytes.get(p) else {
                    return false;
                };
                p += 1 + len as usize + 1;
            }
            b"u" => p = align(p, 4) + 4,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method_return(sender: &str) -> Vec<u8> {
        // A little-endian METHOD_RETURN header: REPLY_SERIAL (u), SENDER (s), SIGNATURE (g).
        let mut fields = Vec::new();
        fields.extend([5, 1, b'u', 0]);
        fields.extend(7u32.to_le_bytes());
        fields.extend([7, 1, b's', 0]);
        fields.extend((sender.len() as u32).to_le_bytes());
        fields.extend(sender.as_bytes());
        fields.push(0);
        while fields.len() % 8 != 0 {
            fields.push(0);
        }
        fields.extend([8, 1, b'g', 0, 1, b's', 0]);
        let mut msg = vec![b'l', 2, 1, 1];
        msg.extend(0u32.to_le_bytes());
        msg.extend(3u32.to_le_bytes());
        msg.extend((fields.len() as u32).to_le_bytes());
        msg.extend(&fields);
        while msg.len() % 8 != 0 {
            msg.push(0);
        }
        msg
    }

    #[test]
    fn a_well_known_sender_becomes_a_unique_name_of_the_same_length() {
        let mut msg = method_return("org.freedesktop.systemd1");
        let before = msg.len();
        assert!(patch_sender(&mut msg, true));
        assert_eq!(msg.len(), before);
        let text = String::from_utf8_lossy(&msg);
        assert!(text.contains(":org.freedesktop.systemd\0"), "{text:?}");
        assert!(!text.contains("systemd1"));
    }

    #[test]
    fn unique_senders_and_the_bus_are_left_alone() {
        for sender in [":1.42", "org.freedesktop.DBus"] {
            let mut msg = method_return(sender);
            let copy = msg.clone();
            assert!(!patch_sender(&mut msg, true));
            assert_eq!(msg, copy);
        }
        assert!(!patch_sender(&mut [b'l'; 8], true));
    }
}
