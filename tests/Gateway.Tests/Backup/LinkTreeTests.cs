using Gateway.Backup;
using Gateway.Tests.Filestore;

namespace Gateway.Tests.Backup;

/// <summary>The file snapshot's hard-link tree: after every refresh, the same names as the source, each file the same inode.</summary>
public sealed class LinkTreeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gateway-linktree-").FullName;

    private string Source => Path.Combine(_root, "san");

    private string Tree => Path.Combine(_root, "tree");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_refresh_links_what_was_replaced_or_added_removes_what_was_deleted_and_leaves_the_rest()
    {
        Write("deposits/a", "a");
        Write("deposits/b", "b");
        Write("old/c", "c");
        File.CreateSymbolicLink(Path.Combine(Source, "current"), "deposits");
        var image = new LinkTree(Source, Tree);
        Assert.Equal(new LinkTreeRefresh(4, 0, 0, 3), image.Build(CancellationToken.None));
        AssertImage();

        // As the replicator writes: a new file, a replacement by rename, deletes, a directory that became a file.
        Write("deposits/d", "d");
        Write("deposits/.a.tmp", "a2");
        File.Move(Path.Combine(Source, "deposits/.a.tmp"), Path.Combine(Source, "deposits/a"), overwrite: true);
        File.Delete(Path.Combine(Source, "deposits/b"));
        Directory.Delete(Path.Combine(Source, "old"), recursive: true);
        Write("old", "now a file");

        var refresh = image.Refresh(CancellationToken.None);

        Assert.Equal(new LinkTreeRefresh(Linked: 3, Removed: 2, Unchanged: 1, Directories: 2), refresh);
        AssertImage();
        Assert.Equal("a2", File.ReadAllText(Path.Combine(Tree, "deposits/a")));
        Assert.Equal("deposits", new FileInfo(Path.Combine(Tree, "current")).LinkTarget);
    }

    [Fact]
    public void After_random_operations_each_refresh_leaves_an_exact_image()
    {
        var seed = Random.Shared.Next();
        var operations = new RandomTreeOperations(Source, seed);
        Directory.CreateDirectory(Source);
        Directory.CreateDirectory(Tree);
        File.WriteAllText(Path.Combine(Tree, "leftover"), "from an earlier run");
        var image = new LinkTree(Source, Tree);
        image.Build(CancellationToken.None);
        AssertImage($"seed {seed}, built");
        for (var round = 0; round < 20; round++)
        {
            operations.Run(15, withLargeFile: false);
            image.Refresh(CancellationToken.None);
            AssertImage($"seed {seed}, round {round}:\n  {string.Join("\n  ", operations.Log)}");
        }
    }

    private void Write(string relative, string content)
    {
        var path = Path.Combine(Source, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>Every entry of the source is in the tree (directories as directories, the rest as the same inode), and nothing else.</summary>
    private void AssertImage(string context = "")
    {
        var source = Entries(Source);
        var tree = Entries(Tree);
        Assert.True(source.Keys.Order().SequenceEqual(tree.Keys.Order()), $"names differ: only in the source {string.Join(", ", source.Keys.Except(tree.Keys))}; only in the tree {string.Join(", ", tree.Keys.Except(source.Keys))}\n{context}");
        foreach (var (name, inode) in source)
        {
            Assert.True(inode == tree[name], $"{name}: inode {tree[name]} in the tree, {inode} in the source\n{context}");
        }
    }

    /// <summary>Relative path to inode (0 for a directory), symlinks not followed.</summary>
    private static Dictionary<string, ulong> Entries(string root) =>
        new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .ToDictionary(entry => Path.GetRelativePath(root, entry.FullName), entry => entry is DirectoryInfo && entry.LinkTarget is null ? 0UL : LinkTree.InodeOf(entry.FullName)!.Value);
}
