// The OpenID provider of the single sign-on tests: node's oidc-provider
// (OpenID-certified), on 127.0.0.1, started by the tests
// (tests/integration/support/oidc.rs). It speaks the real protocol (discovery,
// keys, authorization code with PKCE, the token endpoint, signed ID tokens);
// what a test needs besides, it asks through /test/...:
//
//   POST /test/accounts   {"alice": {"email", "email_verified", "groups", ...}}
//                          the people who can sign in (their claims)
//   POST /test/next       {"account": "alice"} who the next sign-in is: the
//                          login and consent steps finish at once as them
//   POST /test/tamper     {"aud"?, "exp"?, "nonce"?} the next ID token is
//                          re-signed with these claims changed
//   POST /test/rotate     a new signing key (a new key id) signs from now on
//
// Usage: node oidc_provider.mjs CLIENT_ID CLIENT_SECRET REDIRECT_URI, from
// .data/tools/node (where `make test` installs oidc-provider); it prints
// "ready PORT" once it listens on 127.0.0.1:PORT.

import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
const { default: Provider } = await import(require.resolve("oidc-provider"));
const jose = await import(require.resolve("jose"));

const [clientId, clientSecret, redirectUri] = process.argv.slice(2);
// A free port first: the issuer (in every token) names it.
const port = await new Promise((resolve) => {
  const probe = net.createServer();
  probe.listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const issuer = `http://127.0.0.1:${port}`;

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid, alg: "RS256", use: "sig" };
}

let keys = [await signingKey("key-1")];
let accounts = {};
let next = null;
let tamper = null;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [...keys] },
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "name"],
    groups: ["groups"],
  },
  // The claims of the scopes asked for go into the ID token, as most
  // providers (Keycloak, Authentik, Entra ID with a groups claim) do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
});

async function body(ctx) {
  let raw = "";
  for await (const chunk of ctx.req) raw += chunk;
  return raw ? JSON.parse(raw) : {};
}

provider.use(async (ctx, nextMiddleware) => {
  if (ctx.method === "POST" && ctx.path.startsWith("/test/")) {
    const payload = await body(ctx);
    if (ctx.path === "/test/accounts") accounts = payload;
    else if (ctx.path === "/test/next") next = payload.account;
    else if (ctx.path === "/test/tamper") tamper = payload;
    else if (ctx.path === "/test/rotate") keys.unshift(await signingKey(`key-${keys.length + 1}`));
    else ctx.throw(404);
    ctx.status = 204;
    return;
  }
  if (ctx.method === "GET" && ctx.path === "/jwks") {
    ctx.body = {
      keys: await Promise.all(
        keys.map(async (k) => {
          const { d, p, q, dp, dq, qi, ...pub } = k;
          return pub;
        }),
      ),
    };
    return;
  }
  if (ctx.method === "GET" && ctx.path.startsWith("/interaction/")) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (!next) ctx.throw(400, "no sign-in expected: POST /test/next first");
    const grant = new provider.Grant({ accountId: next, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    const to = await provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: next },
      consent: { grantId },
    });
    ctx.redirect(to);
    return;
  }
  await nextMiddleware();
  if (ctx.path === "/token" && ctx.status === 200 && ctx.body?.id_token) {
    // Every ID token is signed with the newest key (after /test/rotate, one
    // the app has not seen yet), and with /test/tamper's claims changed.
    const claims = jose.decodeJwt(ctx.body.id_token);
    const changed = { ...claims, ...(tamper ?? {}) };
    if (tamper?.exp !== undefined) changed.exp = Math.floor(Date.now() / 1000) + tamper.exp;
    tamper = null;
    const key = await jose.importJWK(keys[0], "RS256");
    ctx.body = {
      ...ctx.body,
      id_token: await new jose.SignJWT(changed)
        .setProtectedHeader({ alg: "RS256", kid: keys[0].kid, typ: "JWT" })
        .sign(key),
    };
  }
});

provider.listen(port, "127.0.0.1", () => {
  console.log(`ready ${port}`);
});
