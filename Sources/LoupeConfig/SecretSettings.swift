import Foundation

/// Which settings hold secrets. Their values appear in no error message, description or log
/// line: messages name the setting and where it is, never what it is set to
/// (docs/operations.md, "Security").
public enum SecretSettings {
    /// Parts of a name that mark a secret or key material: `server.api_token`, librdkafka's
    /// `sasl.password`, `ssl.key.password`, `ssl.keystore.password`, `ssl.key.pem`,
    /// `sasl.oauthbearer.client.secret`, `sasl.oauthbearer.config` (which carries credentials)…
    static let markers = ["password", "passwd", "secret", "token", "key", "pem", "credential", "oauthbearer.config"]

    /// Whether the setting at `path` (such as `server.api_token`) holds a secret. Every
    /// property under `log.kafka` counts as one, because a misspelt name (`sasl.pasword`)
    /// cannot be told from a secret's.
    public static func isSecret(path: String) -> Bool {
        path.hasPrefix("log.kafka.") || isSecret(name: path)
    }

    /// Whether a setting or librdkafka property is secret by its name alone.
    public static func isSecret(name: String) -> Bool {
        let name = name.lowercased()
        return markers.contains { name.contains($0) }
    }

    /// `text` with every occurrence of each of `values` replaced by `<redacted>`, for messages
    /// of libraries (librdkafka) that may quote what they were given.
    public static func redacting(_ values: some Sequence<String>, in text: String) -> String {
        var text = text
        for value in values.filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) {
            text = text.replacingOccurrences(of: value, with: "<redacted>")
        }
        return text
    }
}
