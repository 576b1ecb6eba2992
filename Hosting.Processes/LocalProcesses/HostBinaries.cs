namespace AspireShop.Hosting.Processes;

/// <summary>
/// The installed server programs processes mode runs. Located once, before anything starts, so a missing one is
/// reported as a single line with the package that provides it instead of a resource that never becomes healthy.
/// </summary>
public sealed record HostBinaries(
    string PostgresBinDirectory,
    string RedisServer,
    string RabbitMQServer,
    string Epmd,
    string Prometheus)
{
    public string Postgres => Path.Combine(PostgresBinDirectory, "postgres");
    public string InitDb => Path.Combine(PostgresBinDirectory, "initdb");
    public string PgBaseBackup => Path.Combine(PostgresBinDirectory, "pg_basebackup");

    public static HostBinaries Locate(ServerProgramSettings settings)
    {
        var postgresBin = settings.PostgresBinDirectory is { Length: > 0 } configured
            ? configured
            : NewestDebianPostgresBin() ?? DirectoryOf(FindOnPath("postgres"));
        if (postgresBin is null || !File.Exists(Path.Combine(postgresBin, "postgres")))
        {
            throw Missing("the PostgreSQL server (postgres, initdb, pg_basebackup)",
                settings.PostgresBinDirectory ?? "/usr/lib/postgresql/*/bin and PATH", "postgresql", "Infrastructure:PostgresBinDirectory");
        }

        foreach (var tool in new[] { "initdb", "pg_basebackup" })
        {
            if (!File.Exists(Path.Combine(postgresBin, tool)))
            {
                throw Missing($"PostgreSQL's {tool}", postgresBin, "postgresql", "Infrastructure:PostgresBinDirectory");
            }
        }

        var redis = Program(settings.RedisServerPath, "redis-server")
            ?? throw Missing("redis-server", settings.RedisServerPath ?? "PATH", "redis-server", "Infrastructure:RedisServerPath");

        var rabbit = Program(settings.RabbitMQServerPath, "/usr/lib/rabbitmq/bin/rabbitmq-server")
            ?? Program(null, "rabbitmq-server")
            ?? throw Missing("rabbitmq-server", settings.RabbitMQServerPath ?? "/usr/lib/rabbitmq/bin and PATH", "rabbitmq-server", "Infrastructure:RabbitMQServerPath");

        var epmd = Program(null, "epmd")
            ?? throw Missing("epmd (Erlang's port mapper, needed by RabbitMQ)", "PATH", "erlang-base", null);

        var prometheus = Program(settings.PrometheusPath, "prometheus")
            ?? throw Missing("prometheus", settings.PrometheusPath ?? "PATH", "prometheus", "Infrastructure:PrometheusPath");

        return new HostBinaries(postgresBin, redis, rabbit, epmd, prometheus);
    }

    private static LocalProcessSetupException Missing(string what, string lookedIn, string debianPackage, string? setting)
        => new($"{what} not found (looked in {lookedIn}). Install it with 'sudo apt-get install {debianPackage}'"
            + (setting is null ? "." : $" or point {setting} at it."));

    private static string? NewestDebianPostgresBin()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var major) ? major : -1))
            .Where(candidate => candidate.version > 0 && File.Exists(Path.Combine(candidate.dir, "bin", "postgres")))
            .OrderByDescending(candidate => candidate.version)
            .Select(candidate => Path.Combine(candidate.dir, "bin"))
            .FirstOrDefault();
    }

    private static string? Program(string? configured, string fallback)
    {
        if (configured is { Length: > 0 })
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        return Path.IsPathRooted(fallback) ? (File.Exists(fallback) ? fallback : null) : FindOnPath(fallback);
    }

    private static string? FindOnPath(string program)
        => (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    private static string? DirectoryOf(string? path) => path is null ? null : Path.GetDirectoryName(path);
}

/// <summary>Where the server programs are when they are not in their Debian places (null: look there and on PATH).</summary>
public sealed record ServerProgramSettings(string? PostgresBinDirectory, string? RedisServerPath, string? RabbitMQServerPath, string? PrometheusPath);
