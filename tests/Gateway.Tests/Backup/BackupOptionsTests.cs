using Gateway.Backup;
using Gateway.Tests.Support;

namespace Gateway.Tests.Backup;

/// <summary>The Gateway:Backup section, bound and validated by the loader: each rule broken on its own in an otherwise valid configuration.</summary>
public sealed class BackupOptionsTests : IDisposable
{
    private const string Section = "Gateway:Backup";
    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();

    public BackupOptionsTests()
    {
        File.WriteAllText(KeyFile, "a restic key\n");
        _settings.Values[$"{Section}:RepositoryPath"] = Path.Combine(_settings.Root, "repository");
        _settings.Values[$"{Section}:PasswordFile"] = KeyFile;
        _settings.Values["Gateway:Sites:0:Database:DataDirectory"] = "/srv/pg/a";
        _settings.Values["Gateway:Sites:1:Database:DataDirectory"] = "/srv/pg/b";
    }

    private string KeyFile => Path.Combine(_settings.Root, "restic-key");

    public void Dispose() => _settings.Dispose();

    private void AssertRejected(string key, string problem)
    {
        var errors = _settings.Errors();
        Assert.True(errors.Any(e => e.Key == key && e.Problem.Contains(problem, StringComparison.Ordinal)),
            $"expected {key}: ...{problem}...; got {string.Join("; ", errors)}");
    }

    [Fact]
    public void The_section_binds_and_keeps_the_documented_defaults_for_the_rest()
    {
        _settings.Values[$"{Section}:Schedule"] = "daily 02:30";
        _settings.Values[$"{Section}:Retention:KeepDaily"] = "14";
        _settings.Values[$"{Section}:PgBackRest:Type"] = "Incr";

        var backup = _settings.Load().Backup;

        Assert.True(backup.Enabled);
        Assert.Equal("daily 02:30", backup.Schedule);
        Assert.Equal(new RetentionPolicy(7, 14, 4), backup.Retention.ToPolicy());
        Assert.Equal(PgBackRestBackupType.Incr, backup.PgBackRest.Type);
        Assert.Equal(TimeSpan.FromSeconds(1), backup.MaxHold);
        Assert.Equal("postgres", backup.PgBackRest.OsUser);
        Assert.Equal("zst", backup.PgBackRest.Compression);
    }

    [Fact]
    public void Without_a_repository_backups_are_off_and_nothing_else_is_required()
    {
        _settings.Values.Remove($"{Section}:RepositoryPath");
        _settings.Values.Remove($"{Section}:PasswordFile");
        _settings.Values[$"{Section}:Schedule"] = "dialy 02:30";

        Assert.False(_settings.Load().Backup.Enabled);
    }

    [Fact]
    public void A_schedule_that_does_not_parse_stops_the_start_naming_the_key_and_the_value() =>
        Set("Schedule", "dialy 02:30", "Schedule", "'dialy 02:30' does not parse");

    [Fact]
    public void A_retention_of_zero_stops_the_start_naming_the_values()
    {
        _settings.Values[$"{Section}:Retention:KeepLast"] = "0";
        _settings.Values[$"{Section}:Retention:KeepDaily"] = "0";
        _settings.Values[$"{Section}:Retention:KeepWeekly"] = "0";
        AssertRejected($"{Section}:Retention", "KeepLast 0, KeepDaily 0 and KeepWeekly 0 keep nothing");
    }

    [Fact]
    public void A_negative_retention_count_is_named() => Set("Retention:KeepWeekly", "-2", "Retention:KeepWeekly", "-2 must be 0 or more");

    [Theory]
    [InlineData("MaxHold", "00:00:00", "MaxHold", "must be greater than zero")]
    [InlineData("MaxHold", "00:00:12", "MaxHold", "must be shorter than Gateway:Coordinator:MaxHoldTime")]
    [InlineData("RepositoryPath", "backups", "RepositoryPath", "'backups' must be an absolute path")]
    [InlineData("MinFreeSpace", "-1", "MinFreeSpace", "-1 must be 0")]
    [InlineData("PgBackRest:Compression", "xz", "PgBackRest:Compression", "'xz' is not one of zst, lz4, gz, bz2, none")]
    [InlineData("PgBackRest:SocketDirectory", "run/postgresql", "PgBackRest:SocketDirectory", "must be an absolute path")]
    [InlineData("PgBackRest:Stanza", "my stanza", "PgBackRest:Stanza", "'my stanza' must be letters")]
    [InlineData("PgBackRest:ExtraSettings:0", "pg2-host", "PgBackRest:ExtraSettings:0", "'pg2-host' is not one 'key=value' line")]
    [InlineData("ReleaseSnapshotCommand", "umount {snapshot}", "ReleaseSnapshotCommand", "has nothing to release without SnapshotCommand")]
    public void A_bad_value_is_named_with_its_full_key(string key, string value, string errorKey, string problem) => Set(key, value, errorKey, problem);

    [Fact]
    public void A_missing_key_file_is_named_without_echoing_a_value_that_may_be_the_key_itself()
    {
        _settings.Values[$"{Section}:PasswordFile"] = "s3cr3t-key";
        var error = Assert.Single(_settings.Errors(), e => e.Key == $"{Section}:PasswordFile");
        Assert.DoesNotContain("s3cr3t", error.Problem);

        _settings.Values[$"{Section}:PasswordFile"] = "/nonexistent/key";
        AssertRejected($"{Section}:PasswordFile", "key file '/nonexistent/key' does not exist or is empty");
    }

    [Fact]
    public void Backups_need_both_data_directories()
    {
        _settings.Values.Remove("Gateway:Sites:1:Database:DataDirectory");
        AssertRejected("Gateway:Sites:1:Database:DataDirectory", "is required with Backup:RepositoryPath");
    }

    [Fact]
    public void A_misspelt_key_is_named_with_its_full_path() => Set("Retention:KeepDayly", "3", "Retention:KeepDayly", "unknown key");

    private void Set(string key, string value, string errorKey, string problem)
    {
        _settings.Values[$"{Section}:{key}"] = value;
        AssertRejected($"{Section}:{errorKey}", problem);
    }
}
