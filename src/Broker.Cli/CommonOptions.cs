using System.Globalization;
using System.CommandLine;
using System.Text.Json;
using Broker.Client;

namespace Broker.Cli;

/// <summary>Options every client command shares, and output helpers.</summary>
public static class CommonOptions
{
    public static Option<string> Bootstrap() => new("--bootstrap")
    {
        Description = "Node address(es) to connect to, host:port[,host:port] (env BROKER_BOOTSTRAP)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BROKER_BOOTSTRAP") is { Length: > 0 } env ? env : "127.0.0.1:9190",
    };

    public static Option<string> Output()
    {
        var option = new Option<string>("--output", "-o") { Description = "Output format: text or json", DefaultValueFactory = _ => "text" };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    public static Option<bool> Watch() => new("--watch", "-w") { Description = "Keep refreshing in place until Ctrl+C (plain frames when stdout is not a terminal; NO_COLOR respected)" };

    public static Option<string> Interval() => new("--interval") { Description = "How often --watch refreshes: 1s, 500ms, 2m", DefaultValueFactory = _ => "1s" };

    /// <summary>
    /// A client for --watch: a short request timeout, so a refresh that asked a node that just died gives up in
    /// seconds and the next one asks the next bootstrap address (the one-shot commands wait longer for a slow node).
    /// The connect timeout is the library's (3 s, or 10 s with TLS), cut to those 5 s.
    /// </summary>
    public static ClientConfig WatchClient(string bootstrap) => Secure(new ClientConfig { BootstrapServers = bootstrap, RequestTimeout = TimeSpan.FromSeconds(5) });

    public static ClientConfig Client(string bootstrap) => Secure(new ClientConfig { BootstrapServers = bootstrap, RequestTimeout = TimeSpan.FromSeconds(15) });

    /// <summary>
    /// --command-config for the native client commands (every command with --bootstrap; added in Program.cs): a
    /// properties file with the names `broker acls`/`broker users` and Kafka's tools use, of which the native client
    /// reads sasl.username and sasl.password (its login on a node's client door) and, for a door with TLS,
    /// security.protocol (SSL or SASL_SSL), ssl.ca.location, ssl.certificate.location and ssl.key.location, and
    /// socket.connection.setup.timeout.ms (how long to keep trying to connect; unset, the client library's default:
    /// 10 s with TLS, as Kafka's clients, else 3 s).
    /// </summary>
    public static readonly Option<string?> ClientCommandConfig = new("--command-config")
    {
        Description = "Properties file for a node's client door: sasl.username=NAME, sasl.password=SECRET; with TLS security.protocol=SSL or SASL_SSL, ssl.ca.location=CA.pem, "
            + "and for client-auth = required ssl.certificate.location=CERT.pem, ssl.key.location=KEY.pem; socket.connection.setup.timeout.ms=MS "
            + "(how long to keep trying to connect: 10000 over TLS, else 3000) (env BROKER_CLIENT_CONFIG)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BROKER_CLIENT_CONFIG") is { Length: > 0 } env ? env : null,
    };

    /// <summary>The login read from <see cref="ClientCommandConfig"/> when the command started (one command per process).</summary>
    private static (string? User, string? Password) _login;

    /// <summary>The TLS files read from <see cref="ClientCommandConfig"/>: CA, certificate, key (all null = plain TCP).</summary>
    private static (string? Ca, string? Certificate, string? Key) _tls;

    /// <summary>socket.connection.setup.timeout.ms from <see cref="ClientCommandConfig"/>, if given.</summary>
    private static TimeSpan? _connectTimeout;

    /// <summary>Reads the login from the --command-config file, if the command has one; throws naming what is wrong.</summary>
    public static void LoadLogin(string? path)
    {
        if (path is null) return;
        if (!File.Exists(path)) throw new ArgumentException($"--command-config {path}: no such file");
        string? user = null, password = null, protocol = null, ca = null, certificate = null, keyFile = null;
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"--command-config {path}: '{line}' is not key=value");
            var (key, value) = (line[..eq].Trim(), line[(eq + 1)..].Trim());
            if (key == "sasl.username") user = value;
            else if (key == "sasl.password") password = value;
            else if (key == "security.protocol") protocol = value.ToUpperInvariant();
            else if (key == "ssl.ca.location") ca = value;
            else if (key == "ssl.certificate.location") certificate = value;
            else if (key == "ssl.key.location") keyFile = value;
            else if (key == "socket.connection.setup.timeout.ms") _connectTimeout = Milliseconds(path, key, value);
        }
        if (string.IsNullOrEmpty(user) != string.IsNullOrEmpty(password))
            throw new ArgumentException($"--command-config {path}: give both sasl.username and sasl.password, or neither");
        _login = (user, password);
        // As Kafka's clients: ssl.* apply with SSL/SASL_SSL; without security.protocol, ssl.ca.location alone turns TLS on.
        var tls = protocol switch
        {
            "SSL" or "SASL_SSL" => true,
            "PLAINTEXT" or "SASL_PLAINTEXT" => false,
            null => ca is not null,
            _ => throw new ArgumentException($"--command-config {path}: security.protocol={protocol} is not one of PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL"),
        };
        if (tls && ca is null)
            throw new ArgumentException($"--command-config {path}: security.protocol={protocol} needs ssl.ca.location, the PEM certificate of the CA that issued the door's certificate");
        if ((certificate is null) != (keyFile is null))
            throw new ArgumentException($"--command-config {path}: give both ssl.certificate.location and ssl.key.location, or neither");
        _tls = tls ? (ca, certificate, keyFile) : (null, null, null);
    }

    private static TimeSpan Milliseconds(string path, string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms)
            : throw new ArgumentException($"--command-config {path}: {key}={value} is not a positive number of milliseconds");

    /// <summary>Applies the --command-config login and TLS files to a client's settings.</summary>
    public static T Secure<T>(T config) where T : ClientConfig
    {
        config.Username = _login.User;
        config.Password = _login.Password;
        config.SslCaLocation = _tls.Ca;
        config.SslCertificateLocation = _tls.Certificate;
        config.SslKeyLocation = _tls.Key;
        if (_connectTimeout is { } timeout)
        {
            config.ConnectTimeout = timeout;
            if (config.RequestTimeout < timeout) config.RequestTimeout = timeout; // a connect timeout is at most the request's
        }
        return config;
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void WriteJson(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>A number as a table cell: invariant culture, so scripts parse the same output everywhere.</summary>
    public static string Cell(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Prints rows as aligned columns under a header.</summary>
    public static void WriteTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var widths = new int[header.Count];
        foreach (var row in all)
            for (var i = 0; i < row.Count; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        foreach (var row in all)
            Console.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]))));
    }
}
