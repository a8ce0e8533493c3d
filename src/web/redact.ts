/** Query parameters whose values are secrets or personal codes: never written to logs. */
const SECRET_PARAM = /code|token|password|secret|signature|otp|key|assertion|saml|sad|hint/i;

/** The URL as logs may show it: values of secret-looking query parameters replaced. */
export function redactQuery(url: string): string {
  const q = url.indexOf("?");
  if (q === -1) return url;
  const params = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_PARAM.test(decodeSafe(name)) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join("&")}`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
