using Gateway.Configuration;
using Gateway.Hosting;

namespace Gateway.Backup;

public static class BackupServices
{
    /// <summary>The backup feature in the public host, which owns the objects it works on; with Gateway:Backup:RepositoryPath empty only its (disabled) options.</summary>
    public static IServiceCollection AddGatewayBackup(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSharedSingleton(options.Backup);
        if (!options.Backup.Enabled)
        {
            return services;
        }

        services.AddSingleton(new BackupPaths(options.Backup, options));
        services.AddSharedSingleton(provider => new BackupCatalog(provider.GetRequiredService<BackupPaths>().Catalog));
        services.AddSharedSingleton<BackupOperations>();
        services.AddSingleton<IBackupTool, ProcessBackupTool>();
        services.AddSingleton(provider => new PgBackRest(options.Backup, options, provider.GetRequiredService<BackupPaths>(), provider.GetRequiredService<IBackupTool>()));
        services.AddSingleton<Restic>();
        services.AddSingleton<BackupEngines>();
        services.AddSingleton<IWriteHold, GatewayWriteHold>();
        services.AddSingleton<ConsistentCut>();
        services.AddSingleton<BackupMetrics>();
        services.AddSharedSingleton<RetentionRunner>();
        services.AddSharedSingleton<BackupRunner>();
        services.AddSharedSingleton<RestoreRunner>();
        // Recovery first: a backup a killed gateway left running is marked interrupted before any new one can start.
        services.AddHostedService<BackupRecovery>();
        services.AddHostedService<BackupScheduler>();
        return services;
    }
}
