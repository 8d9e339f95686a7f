//! IONOS Cloud's part of an upload: the FTP login and server of a location,
//! the file sent over FTPS into the folder of its type, the wait until IONOS
//! lists it as one of the account's images, and the properties asked for.
//! What the neutral `Images::upload` calls for IONOS (its wiring is not
//! here yet).

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use super::ftp::{ENV_FTP_CA_FILE, ENV_FTP_URL, kind_of, location_host, remote_name};
use super::{Client, types};
use crate::ops::ftps::{DEFAULT_PORT, FtpServer, FtpsSettings, FtpsUploaded, TlsVersion};
use crate::ops::staging::LocalImage;
use crate::ops::wait::WaitOptions;
use crate::values::error::{Error, Outcome, TimeoutKind};

/// How often the image list is read while IONOS registers an uploaded file
/// (ionosctl's interval).
pub const REGISTER_INTERVAL: Duration = Duration::from_secs(10);
/// How long IONOS may take to register an uploaded file (ionosctl's limit).
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(1200);

/// The FTP login and where it goes: IONOS's user name and password (a
/// token cannot log in to FTP), a server in place of the location's, extra
/// trusted roots, the TLS versions.
#[derive(Clone)]
pub(crate) struct FtpAccess {
    user: String,
    password: SecretString,
    server: Option<FtpServer>,
    ca_file: Option<PathBuf>,
    tls: (TlsVersion, TlsVersion),
}

impl std::fmt::Debug for FtpAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpAccess")
            .field("user", &self.user)
            .field("server", &self.server)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl FtpAccess {
    /// From `IONOS_USERNAME` and `IONOS_PASSWORD`, [`ENV_FTP_URL`] and
    /// [`ENV_FTP_CA_FILE`] (read through `lookup`). Without the user name
    /// and password: [`Error::Config`] saying that a token cannot log in to
    /// FTP, before anything is sent.
    pub(crate) fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let (Some(user), Some(password)) = (get("IONOS_USERNAME"), get("IONOS_PASSWORD")) else {
            let token = if get("IONOS_TOKEN").is_some() {
                " (IONOS_TOKEN is set, but a token cannot log in to FTP)"
            } else {
                ""
            };
            return Err(Error::Config(format!(
                "an IONOS upload goes over FTPS, which needs IONOS_USERNAME and IONOS_PASSWORD{token}"
            )));
        };
        let server = get(ENV_FTP_URL)
            .map(|url| FtpServer::parse(&url).map_err(|e| Error::Config(format!("{ENV_FTP_URL}: {e}"))))
            .transpose()?;
        Ok(Self {
            user,
            password: SecretString::from(password),
            server,
            ca_file: get(ENV_FTP_CA_FILE).map(PathBuf::from),
            tls: (TlsVersion::V1_2, TlsVersion::V1_2),
        })
    }

    /// Logs in as `user` with `password` to the location's server.
    pub(crate) fn new(user: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
            server: None,
            ca_file: None,
            tls: (TlsVersion::V1_2, TlsVersion::V1_2),
        }
    }

    /// This server in place of the location's.
    pub(crate) fn with_server(mut self, server: FtpServer) -> Self {
        self.server = Some(server);
        self
    }

    /// Also trusts the roots in this PEM file.
    pub(crate) fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// The FTPS settings for an upload into `location`.
    pub(crate) fn settings(&self, location: &str) -> Result<FtpsSettings, Error> {
        let server = match &self.server {
            Some(server) => server.clone(),
            None => FtpServer::ftps(location_host(location)?, DEFAULT_PORT),
        };
        let mut settings = FtpsSettings::new(server, self.user.clone(), self.password.clone())
            .with_tls_versions(self.tls.0, self.tls.1)?;
        if let Some(file) = &self.ca_file {
            settings = settings.with_extra_roots_file(file)?;
        }
        Ok(settings)
    }
}

/// The account's image called `name` in `location`, when the list has it.
pub(crate) fn registered<'a>(
    images: &'a [types::Image],
    name: &str,
    location: &str,
) -> Option<&'a types::Image> {
    images.iter().find(|image| {
        image.properties.as_ref().is_some_and(|p| {
            p.public != Some(true)
                && p.name.as_deref() == Some(name)
                && p.location
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(location))
        })
    })
}

/// Reads the image list every `interval` until the account's image `name`
/// in `location` is there; [`Error::Timeout`] (wait) after `limit`.
pub(crate) async fn wait_registered(
    client: &Client,
    name: &str,
    location: &str,
    interval: Duration,
    limit: Duration,
) -> Result<types::Image, Error> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let images = client.list_images().await?.into_inner();
        if let Some(image) = registered(&images, name, location) {
            return Ok(image.clone());
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::Timeout {
                operation: format!("the registration of the uploaded image {name} in {location}"),
                limit: TimeoutKind::Wait,
                after: limit,
                request_id: None,
                attempts: 1,
                outcome: Outcome::MaybeApplied,
            });
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
    }
}

/// What an IONOS upload sends and waits for.
#[derive(Debug, Clone)]
pub(crate) struct IonosUpload<'a> {
    pub file: &'a Path,
    pub name: &'a str,
    pub location: &'a str,
    /// Set once the image is registered (none: as IONOS registered it).
    pub properties: Option<types::ImageProperties>,
    pub register_interval: Duration,
    pub register_timeout: Duration,
    pub wait: WaitOptions,
}

/// Sends the file over FTPS into the folder of its type, waits until IONOS
/// lists it, sets the properties asked for and waits for that change.
pub(crate) async fn upload(
    client: &Client,
    access: &FtpAccess,
    request: IonosUpload<'_>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(FtpsUploaded, types::Image), Error> {
    let settings = access.settings(request.location)?;
    let file = LocalImage::inspect(request.file.to_path_buf()).await?;
    let (kind, extension) = kind_of(file.format)?;
    let name = remote_name(request.name, extension);
    let sent = settings
        .upload(request.file, kind.folder(), &name, progress)
        .await?;
    let image = wait_registered(
        client,
        &name,
        request.location,
        request.register_interval,
        request.register_timeout,
    )
    .await?;
    let image = match request.properties {
        Some(properties) => client.update_image(&image.id, properties, request.wait).await?,
        None => image,
    };
    Ok((sent, image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_alone_cannot_log_in_to_ftp() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let e = FtpAccess::from_env(env(&[("IONOS_TOKEN", "t")])).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e}");
        assert!(e.to_string().contains("a token cannot log in to FTP"), "{e}");
        let access = FtpAccess::from_env(env(&[
            ("IONOS_USERNAME", "me@example.com"),
            ("IONOS_PASSWORD", "s3cret"),
            (ENV_FTP_URL, "ftps://127.0.0.1:2121"),
        ]))
        .unwrap();
        assert!(!format!("{access:?}").contains("s3cret"));
        assert_eq!(access.settings("de/fra").unwrap().server().port(), 2121);
        let plain = FtpAccess::from_env(env(&[
            ("IONOS_USERNAME", "u"),
            ("IONOS_PASSWORD", "p"),
            (ENV_FTP_URL, "ftp://ftp.example.com"),
        ]))
        .unwrap_err();
        assert!(
            matches!(plain, Error::Config(_)) && plain.to_string().contains("loopback"),
            "{plain}"
        );
        let located = FtpAccess::new("u", "p").settings("de/fra").unwrap();
        assert_eq!(located.server().to_string(), "ftps://ftp-fra.ionos.com:21");
        assert_eq!(located.tls_versions(), (TlsVersion::V1_2, TlsVersion::V1_2));
    }
}
