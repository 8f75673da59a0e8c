using PfPpo.Cli;
using PfPpo.IO;

namespace PfPpo.Tests.Cli;

public class UserErrorsTests
{
    public static TheoryData<Exception, bool> Cases => new()
    {
        { new UsageException("--n must be at least 1"), true },
        { new DataFormatException("f.jsonl:3: invalid JSON"), true },
        { new InvalidDataException("config.json: bad"), true },
        { new FileNotFoundException("f: no such file"), true },
        { new DirectoryNotFoundException("d"), true },
        { new UnauthorizedAccessException("f"), true },
        { new InsufficientMemoryException("needs 5 TiB"), true },
        { new ArgumentException("NumSamples is 0", "NumSamples"), false }, // a bug deep in Core, not a bad flag
        { new ArgumentOutOfRangeException("count"), false },
        { new InvalidOperationException("state"), false },
        { new FormatException("bad"), false },
        { new NullReferenceException(), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnlyUserMistakesAreUserErrors(Exception e, bool user) => Assert.Equal(user, UserErrors.IsUserError(e));

    [Fact]
    public void AToolkitBugKeepsItsExceptionAndStackTrace()
    {
        var bug = Assert.Throws<ArgumentException>(() => UserErrors.Run(() => throw new ArgumentException("internal", "NumSamples")));
        Assert.NotNull(bug.StackTrace);
    }
}
