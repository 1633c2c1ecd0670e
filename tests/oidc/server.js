// A real OpenID Connect provider for the portal's tests: node server.js PORT REDIRECT_URI POST_LOGOUT_URI
// Its development login form accepts any login name as the subject; the portal maps the
// preferred_username claim (the same name) to a user in its store.
import Provider from "oidc-provider";

const [port, redirectUri, postLogoutUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "dataadgang-portal",
      client_secret: "dataadgang-test-secret",
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ["sub"], profile: ["preferred_username", "name"] },
  conformIdTokenClaims: false, // profile claims in the ID token, as Entra ID and most kommune IdPs do
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id, name: id }),
  }),
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ["dataadgang-test-cookie-key"] },
});
provider.proxy = false;
const server = provider.listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
