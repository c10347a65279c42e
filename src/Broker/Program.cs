using Broker.Configuration;
using Broker.Database;
using Broker.Deposits;
using Broker.Health;
using Broker.Http;
using Broker.Storage;
using Npgsql;

const int ConfigurationErrorExitCode = 2;
const int DatabaseUnusableExitCode = 1;

// Content root at the binary, not the working directory, so appsettings.json (log levels) is found however we are started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

BrokerSettings settings;
try
{
    settings = BrokerSettings.Load(builder.Configuration);
}
catch (BrokerConfigurationException invalid)
{
    await Console.Error.WriteLineAsync(invalid.Message);
    return ConfigurationErrorExitCode;
}

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = DepositLimits.MaxContentBytes);

builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(services => new NpgsqlDataSourceBuilder(settings.ConnectionString)
    .UseLoggerFactory(services.GetRequiredService<ILoggerFactory>())
    .Build());
builder.Services.AddSingleton(services => DatabaseRetryPipeline.Create(
    services.GetRequiredService<NpgsqlDataSource>(),
    services.GetRequiredService<TimeProvider>(),
    services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseRetryPipeline).FullName!)));
builder.Services.AddSingleton<SchemaMigrator>();
builder.Services.AddSingleton<DatabaseStartup>();
builder.Services.AddSingleton<DepositRepository>();
builder.Services.AddSingleton<DepositFileStore>();
builder.Services.AddSingleton<FilestoreProbe>();
builder.Services.AddSingleton<DatabaseProbe>();

var app = builder.Build();

app.Logger.LogInformation("Broker {InstanceId} starting; database at {Database}; filestore at {FilestorePath}",
    settings.InstanceId, settings.DatabaseDescription, settings.FilestorePath);

// Migrate before listening: a broker that answers /healthz must be able to serve deposits.
if (!await app.Services.GetRequiredService<DatabaseStartup>().WaitAndMigrateAsync(CancellationToken.None))
{
    return DatabaseUnusableExitCode;
}

app.UseServedByHeader(settings.InstanceId);
app.UseJsonErrors();
app.MapDeposits();
app.MapHealth();

await app.RunAsync();
return 0;
