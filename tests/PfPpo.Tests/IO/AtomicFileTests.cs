using PfPpo.IO;

namespace PfPpo.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void AWriteRemovesOnlyStaleTempFilesOfKilledWrites()
    {
        using var dir = new TempDirectory();
        DateTime old = DateTime.UtcNow - TimeSpan.FromHours(1);
        string stale = dir[$".result.jsonl.{Guid.NewGuid():N}.tmp"];
        string live = dir[$".result.jsonl.{Guid.NewGuid():N}.tmp"];     // another writer's, still fresh
        string foreign = dir[".notes.tmp"];                                // not a name AtomicFile makes
        string notGuid = dir[".result.jsonl.0123456789abcdef0123456789abcdeg.tmp"];
        foreach (string file in new[] { stale, live, foreign, notGuid })
        {
            File.WriteAllText(file, "");
        }
        foreach (string file in new[] { stale, foreign, notGuid })
        {
            File.SetLastWriteTimeUtc(file, old);
        }

        AtomicFile.WriteAllText(dir["other.txt"], "x");

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(foreign));
        Assert.True(File.Exists(notGuid));
        Assert.Equal("x", File.ReadAllText(dir["other.txt"]));
    }
}
