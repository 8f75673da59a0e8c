using PfPpo.IO;

namespace PfPpo.Tests.IO;

public class JsonLinesTests
{
    [Theory]
    [InlineData("{\"task_id\": \"a\", \"prompt\": \"x\\ud800y\"}", "$.prompt")]
    [InlineData("{\"task_id\": \"a\", \"tests\": [\"ok\", \"\\udc00\"]}", "$.tests[1]")]
    [InlineData("{\"\\ud800\": 1}", "$ (a property name)")]
    public void ALoneSurrogateEscapeIsAFileLineError(string badLine, string where)
    {
        using var dir = new TempDirectory();
        string path = dir["data.jsonl"];
        File.WriteAllText(path, "{\"task_id\": \"ok\", \"prompt\": \"\\ud83d\\ude00 fine\"}\n" + badLine + "\n");
        var e = Assert.Throws<DataFormatException>(() => JsonLines.Read(path).Select(r => r.Record.ToString()).ToList());
        Assert.StartsWith($"{path}:2: invalid JSON", e.Message);
        Assert.Contains(where, e.Message);
        Assert.Contains("not valid UTF-16", e.Message);
    }

    [Fact]
    public void AValidSurrogatePairReadsAsItsCharacter()
    {
        using var dir = new TempDirectory();
        string path = dir["data.jsonl"];
        File.WriteAllText(path, "{\"prompt\": \"\\ud83d\\ude00\"}\n");
        var texts = new List<string?>();
        foreach ((string _, System.Text.Json.JsonElement record) in JsonLines.Read(path))
        {
            texts.Add(record.GetProperty("prompt").GetString());
        }
        Assert.Equal(["\U0001F600"], texts);
    }

    [Fact]
    public void ADirectoryIsReportedAsADirectory()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DataFormatException>(() => JsonLines.Read(dir.Path).ToList());
        Assert.Contains("is a directory, not a file", e.Message);
    }
}
