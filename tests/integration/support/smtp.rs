//! A real SMTP server for the mail tests: aiosmtpd (from PyPI, installed by
//! `make test`) running `tests/smtp_server.py` on a free port, with
//! STARTTLS on a self-signed certificate made here, recording every message
//! it accepts. It can defer the first messages (451) or reject all (550).

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

/// How the server answers the messages it is sent.
#[derive(Debug, Clone, Copy)]
pub enum SmtpAnswer {
    /// 250 to every message.
    Accept,
    /// 451 (try again later) to the first `n`, then 250.
    DeferFirst(u32),
    /// 550 to every message, quoting its recipient.
    Reject,
}

pub struct SmtpServer {
    child: Child,
    dir: PathBuf,
    pub port: u16,
    /// The server's certificate, for `SMTP_CA_FILE`.
    pub ca_file: PathBuf,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// The message as it arrived, headers and parts.
    pub raw: String,
}

impl Received {
    /// The message with quoted-printable soft line breaks and `=3D` undone,
    /// so a link reads as it was written.
    pub fn decoded(&self) -> String {
        self.raw.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The first link to `path` in the message (up to the next quote, angle
    /// bracket or white space).
    pub fn link_to(&self, path: &str) -> Option<String> {
        let text = self.decoded();
        let at = text.find(path)?;
        let start = text[..at].rfind("http")?;
        let end = text[at..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .map_or(text.len(), |n| at + n);
        Some(text[start..end].to_owned())
    }
}

impl SmtpServer {
    pub fn start(answer: SmtpAnswer) -> Self {
        let dir = std::env::temp_dir().join(format!("tt-smtp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("mail folder");
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl is installed (make test installs it)");
        assert!(made.success(), "openssl made no certificate");
        let python = std::env::var_os("TT_PYTHON").map_or_else(
            || super::repo().join(".data/tools/bin/python"),
            PathBuf::from,
        );
        let mut command = Command::new(python);
        command
            .arg(super::repo().join("tests/smtp_server.py"))
            .arg("--dir")
            .arg(&dir)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        match answer {
            SmtpAnswer::Accept => {}
            SmtpAnswer::DeferFirst(n) => {
                command.args(["--defer", &n.to_string()]);
            }
            SmtpAnswer::Reject => {
                command.arg("--reject");
            }
        }
        let mut child = command
            .spawn()
            .expect("aiosmtpd's Python is installed (make test installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server's first line");
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        Self {
            child,
            dir,
            port,
            ca_file: cert,
        }
    }

    /// The app's settings for this server: STARTTLS, trusting its certificate.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "SMTP_URL",
                format!("smtp+starttls://127.0.0.1:{}", self.port),
            ),
            (
                "MAIL_FROM",
                "TimeTracker <timetracker@example.org>".to_owned(),
            ),
            ("SMTP_CA_FILE", self.ca_file.display().to_string()),
        ]
    }

    /// The messages accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        (1..)
            .map_while(|n| {
                let raw = std::fs::read_to_string(self.dir.join(format!("{n}.eml"))).ok()?;
                let to = std::fs::read_to_string(self.dir.join(format!("{n}.rcpt")))
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                Some(Received { to, raw })
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
