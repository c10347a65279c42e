namespace Gateway.Cluster;

/// <summary>Reads the etcd password from its file; the value goes to the client and nowhere else (no log, no error message).</summary>
internal static class EtcdCredentials
{
    public static string ReadPassword(string path) => File.ReadAllText(path).TrimEnd('\r', '\n');
}
