//! The app's column encryption, as neptun.web writes it with pgcrypto:
//! `encode(encrypt(value, secret, 'aes'), 'hex')` — AES in CBC mode with a zero IV and PKCS#7
//! padding, the key the secret's bytes zero-padded to 16, 24 or 32 bytes (cut at 32). It is
//! deterministic, so the app finds a user by the encryption of an e-mail address and checks a
//! share's password by comparing encryptions; the service does the same, on either backend,
//! without pgcrypto. Both the value and the secret reach pgcrypto as `bytea` written as text,
//! so they are read as PostgreSQL reads such text (`\\` is a backslash, `\x..` hex).

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt as _, KeyIvInit as _};
use secrecy::{ExposeSecret as _, SecretString};

/// The app's `CRYPTO_SECRET`.
#[derive(Clone)]
pub struct AppSecret(SecretString);

impl std::fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppSecret(..)")
    }
}

impl AppSecret {
    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    /// `encode(encrypt(value, secret, 'aes'), 'hex')`, or `None` where PostgreSQL would refuse
    /// the value or the secret as `bytea` text (a lone backslash).
    pub fn encrypt_hex(&self, value: &str) -> Option<String> {
        let key = bytea_from_text(self.0.expose_secret())?;
        let value = bytea_from_text(value)?;
        Some(hex(&encrypt(&key, &value)))
    }
}

fn encrypt(key: &[u8], value: &[u8]) -> Vec<u8> {
    let iv = [0u8; 16];
    let mut padded = [0u8; 32];
    let used = key.len().min(32);
    padded[..used].copy_from_slice(&key[..used]);
    match used {
        0..=16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(&padded[..16], &iv)
            .map(|c| c.encrypt_padded_vec::<Pkcs7>(value)),
        17..=24 => cbc::Encryptor::<aes::Aes192>::new_from_slices(&padded[..24], &iv)
            .map(|c| c.encrypt_padded_vec::<Pkcs7>(value)),
        _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(&padded, &iv)
            .map(|c| c.encrypt_padded_vec::<Pkcs7>(value)),
    }
    // The slices above have the cipher's exact key and IV lengths.
    .unwrap_or_default()
}

/// Text read as PostgreSQL's `bytea` input reads it: `\x` then hex digits; else every byte as
/// it is, but `\\` for a backslash and `\ooo` (octal) for any byte.
fn bytea_from_text(text: &str) -> Option<Vec<u8>> {
    if let Some(digits) = text.strip_prefix("\\x") {
        let digits: Vec<u8> = digits
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if !digits.len().is_multiple_of(2) {
            return None;
        }
        return digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
            .collect();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            b'\\' => {
                let octal = bytes.get(i + 1..i + 4)?;
                let valid = octal[0] <= b'3' && octal.iter().all(|b| (b'0'..=b'7').contains(b));
                if !valid {
                    return None;
                }
                let value = octal.iter().fold(0u8, |v, b| v * 8 + (b - b'0'));
                out.push(value);
                i += 4;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> AppSecret {
        AppSecret::new(SecretString::from(s))
    }

    /// Made by pgcrypto on PostgreSQL 15: `encode(encrypt(value, key, 'aes'), 'hex')`.
    #[test]
    fn encryptions_are_pgcryptos() {
        let cases = [
            (
                "secret",
                "ada@example.com",
                "6a66091087604c7d57ccf8c390e1357b",
            ),
            (
                "0123456789abcdef0123",
                "ada@example.com",
                "6332379881b0ea6cbeb76f117486b1b6",
            ),
            (
                &"k".repeat(64),
                "ada@example.com",
                "8b279757779df4350054730529b87521",
            ),
            (
                &"k".repeat(32),
                "ada@example.com",
                "8b279757779df4350054730529b87521",
            ),
            ("secret", "", "40cbbf790b8073b4df503acc4ff1495e"),
            (
                &"ab".repeat(16),
                "pässwörd",
                "90b45e2e66d656fc7bfbf64227112aba",
            ),
            ("secret", "a\\\\b\\101", "b6632b70107abf5c4f048bdb81837bfb"),
        ];
        for (key, value, expected) in cases {
            assert_eq!(
                secret(key).encrypt_hex(value).as_deref(),
                Some(expected),
                "{key:?} {value:?}"
            );
        }
    }

    #[test]
    fn text_postgresql_refuses_as_bytea_is_refused() {
        assert_eq!(secret("secret").encrypt_hex("a\\b"), None);
        assert_eq!(secret("secret").encrypt_hex("\\x1"), None);
        assert_eq!(secret("secret").encrypt_hex("a\\9999"), None);
    }
}
