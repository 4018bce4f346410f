//! Single sign-on with an OpenID provider (`openidconnect`): the
//! authorization code flow with PKCE, `state` and `nonce`, and the ID
//! token's signature, issuer, audience, expiry and nonce verified by the
//! crate.
//!
//! Rules: the provider's discovery document and keys are fetched when first
//! needed, cached for an hour, and fetched again at once when a token is
//! signed with a key id the cache does not know (a key rotation). The two
//! remote calls (discovery, the code exchange) happen in the sign-in's own
//! request, which cannot finish without them; each is bounded by
//! [`HTTP_TIMEOUT`], and redirects are not followed (a token request must
//! not be sent anywhere else). Refusals name a fixed reason, never a token
//! or a claim's value.

use std::time::{Duration, Instant};

use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use crate::config::Oidc as OidcConfig;

/// How long one call to the provider may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the discovery document and keys are used before being fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// The provider as this process knows it.
pub struct Provider {
    pub config: OidcConfig,
    redirect_uri: String,
    http: reqwest::Client,
    metadata: RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

/// Why a sign-in through the provider was refused: shown to the person,
/// kept (with the claims' names) for the administrators' page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

/// What the provider says about who signed in, verified.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// Only when the provider says it is verified.
    pub verified_email: Option<String>,
    pub preferred_username: Option<String>,
    pub groups: Vec<String>,
    /// The names of the ID token's claims (for a refusal's record).
    pub claim_names: Vec<String>,
}

/// A sign-in sent to the provider: where to send the browser, and what the
/// callback needs back (kept by the caller, sealed).
pub struct Started {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

impl Provider {
    pub fn new(config: OidcConfig, public_url: &str) -> anyhow::Result<Self> {
        crate::outbound::install_tls_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Self {
            config,
            redirect_uri: format!("{}/login/sso/callback", public_url.trim_end_matches('/')),
            http,
            metadata: RwLock::new(None),
        })
    }

    /// The address the provider sends people back to (registered there).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The discovery document and keys: cached, or fetched when `fresh`, absent or old.
    async fn metadata(&self, fresh: bool) -> Result<CoreProviderMetadata, Refusal> {
        if !fresh
            && let Some((m, at)) = self.metadata.read().await.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer_url.clone())
            .map_err(|_| Refusal("the provider's address is not a URL"))?;
        let discovered = CoreProviderMetadata::discover_async(issuer, &Http(&self.http))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "the OpenID provider's discovery failed");
                Refusal("the provider could not be reached")
            })?;
        *self.metadata.write().await = Some((discovered.clone(), Instant::now()));
        Ok(discovered)
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        Refusal,
    > {
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|_| Refusal("PUBLIC_URL is not a URL"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(
                self.config.client_secret.expose().clone(),
            )),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: the provider's authorization address with a fresh
    /// state, nonce and PKCE challenge.
    pub async fn start(&self) -> Result<Started, Refusal> {
        let client = self.client(self.metadata(false).await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()));
        if !self.config.role_groups.is_empty() {
            request = request.add_scope(Scope::new("groups".into()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        })
    }

    /// Finishes a sign-in: exchanges the code and verifies the ID token
    /// (with the keys fetched again once if its key id is unknown).
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, (Refusal, Vec<String>)> {
        let none = |r: Refusal| (r, Vec::new());
        let client = self
            .client(self.metadata(false).await.map_err(none)?)
            .map_err(none)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| none(Refusal("the provider names no token endpoint")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&Http(&self.http))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "the OpenID provider refused the code");
                none(Refusal("the provider did not accept the sign-in's code"))
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| none(Refusal("the provider sent no ID token")))?;
        // The claims the crate does not model (the groups), read from the
        // token's payload once the crate has verified its signature.
        let payload = payload(&id_token.to_string());
        let claim_names: Vec<String> = payload.keys().cloned().collect();
        let refuse = |r: Refusal| (r, claim_names.clone());
        let nonce = Nonce::new(nonce.to_owned());
        let verified = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key this process has not seen: the provider rotated its keys.
                let client = self
                    .client(self.metadata(true).await.map_err(refuse)?)
                    .map_err(refuse)?;
                id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .cloned()
            }
            other => other.cloned(),
        }
        .map_err(|e| refuse(Refusal(reason(&e))))?;
        let groups = match payload.get(&self.config.groups_claim) {
            Some(Value::Array(values)) => values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        let verified_email = verified
            .email()
            .filter(|_| verified.email_verified() == Some(true))
            .map(|e| e.as_str().to_owned());
        Ok(Identity {
            issuer: verified.issuer().as_str().to_owned(),
            subject: verified.subject().as_str().to_owned(),
            verified_email,
            preferred_username: verified.preferred_username().map(|u| u.as_str().to_owned()),
            groups,
            claim_names,
        })
    }
}

/// The HTTP client the crate calls, on the app's reqwest (the crate's own
/// would add a second reqwest to the build). A named type rather than a
/// closure: a closure's borrowed future is not `Send` for every lifetime,
/// which axum's handlers need.
struct Http<'a>(&'a reqwest::Client);

type Sending = std::pin::Pin<
    Box<dyn Future<Output = Result<openidconnect::HttpResponse, reqwest::Error>> + Send>,
>;

impl<'c> openidconnect::AsyncHttpClient<'c> for Http<'_> {
    type Error = reqwest::Error;
    type Future = Sending;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(send(self.0.clone(), request))
    }
}

async fn send(
    client: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut built = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        built = built.header(name, value);
    }
    let bytes = response.bytes().await?;
    Ok(built
        .body(bytes.to_vec())
        .unwrap_or_else(|_| http::Response::new(Vec::new())))
}

/// The fixed reason of a failed verification (never the library's message,
/// which may quote the token).
fn reason(e: &openidconnect::ClaimsVerificationError) -> &'static str {
    use openidconnect::ClaimsVerificationError as E;
    match e {
        E::Expired(_) => "the ID token has expired",
        E::InvalidAudience(_) => "the ID token is for another client (audience)",
        E::InvalidIssuer(_) => "the ID token is from another issuer",
        E::InvalidNonce(_) => "the ID token's nonce is not this sign-in's",
        E::SignatureVerification(_) => "the ID token's signature does not verify",
        _ => "the ID token is not valid",
    }
}

/// The JSON payload of a compact JWT; empty when it is not one.
fn payload(jwt: &str) -> Map<String, Value> {
    use base64::Engine as _;
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}
