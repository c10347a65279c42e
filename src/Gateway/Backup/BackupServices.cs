using Gateway.Configuration;

namespace Gateway.Backup;

public static class BackupServices
{
    /// <summary>The backup feature in the public host, which owns the objects it works on; with Gateway:Backup:RepositoryPath empty only its (disabled) options.</summary>
    public static IServiceCollection AddGatewayBackup(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(options.Backup);
        if (!options.Backup.Enabled)
        {
            return services;
        }

        services.AddSingleton(new BackupPaths(options.Backup, options));
        services.AddSingleton(provider => new BackupCatalog(provider.GetRequiredService<BackupPaths>().Catalog));
        services.AddSingleton<BackupOperations>();
        services.AddSingleton<IBackupTool, ProcessBackupTool>();
        services.AddSingleton(provider => new PgBackRest(options.Backup, options, provider.GetRequiredService<BackupPaths>(), provider.GetRequiredService<IBackupTool>()));
        services.AddSingleton<Restic>();
        services.AddSingleton<BackupEngines>();
        services.AddSingleton<IWriteHold, GatewayWriteHold>();
        services.AddSingleton<ConsistentCut>();
        services.AddSingleton<BackupMetrics>();
        services.AddSingleton<RetentionRunner>();
        services.AddSingleton<BackupRunner>();
        services.AddSingleton<RestoreRunner>();
        // Recovery first: a backup a killed gateway left running is marked interrupted before any new one can start.
        services.AddHostedService<BackupRecovery>();
        services.AddHostedService<BackupScheduler>();
        return services;
    }

    /// <summary>The admin host acts on the public host's backup objects (one operation at a time across both).</summary>
    public static IServiceCollection AddGatewayBackupShared(this IServiceCollection adminServices, IServiceProvider shared)
    {
        var options = shared.GetRequiredService<BackupOptions>();
        adminServices.AddSingleton(options);
        if (options.Enabled)
        {
            foreach (var type in new[] { typeof(BackupCatalog), typeof(BackupOperations), typeof(BackupRunner), typeof(RetentionRunner), typeof(RestoreRunner) })
            {
                adminServices.AddSingleton(type, shared.GetRequiredService(type));
            }
        }

        return adminServices;
    }
}
