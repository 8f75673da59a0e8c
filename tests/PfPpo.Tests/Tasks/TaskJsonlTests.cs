using PfPpo.Evaluation;
using PfPpo.IO;
using PfPpo.Tasks;

namespace PfPpo.Tests.Tasks;

public sealed class TaskJsonlTests : IDisposable
{
    private readonly TempDirectory _temp = new("pfppo-tasks-");

    private string Dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void WriteThenReadRoundTrips()
    {
        TaskSplits splits = TaskGenerator.Generate(seed: 3, trainCount: 50, testCount: 10);
        string path = Path.Combine(Dir, "train.jsonl");
        TaskJsonl.Write(path, splits.Train);
        IReadOnlyList<CodeTask> read = TaskJsonl.Read(path);
        Assert.Equal(splits.Train.Select(TaskJsonl.Serialize), read.Select(TaskJsonl.Serialize));
        Assert.Equal(splits.Train[0] with { IoTests = read[0].IoTests }, read[0]);
        Assert.Equal(50, File.ReadAllLines(path).Length);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(Dir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("{\"task_id\": \"x\", \"io_tests\": []}", "missing field 'prompt'")]
    [InlineData("{\"task_id\":\"HumanEval/0\",\"prompt\":\"p\",\"canonical_solution\":\"c\",\"test\":\"t\",\"entry_point\":\"f\"}", "missing field 'io_tests'")]
    [InlineData("not json", "invalid JSON")]
    [InlineData("{\"task_id\":\"a\",\"prompt\":\"p\",\"canonical_solution\":\"c\",\"test\":\"t\",\"entry_point\":\"f\",\"io_tests\":[{\"input\":1}]}", "io_tests[0]")]
    [InlineData("{\"task_id\":\"a\",\"prompt\":\"p\",\"canonical_solution\":\"c\",\"test\":\"t\",\"entry_point\":\"f\",\"io_tests\":[],\"family\":\"linear\",\"wording\":\"x\",\"difficulty\":1,\"held_out\":false}", "field 'wording' must be an integer, got String")]
    public void BadLinesNameFileLineAndField(string badLine, string message)
    {
        string path = Path.Combine(Dir, "bad.jsonl");
        TaskSplits splits = TaskGenerator.Generate(seed: 3, trainCount: 1, testCount: 0);
        File.WriteAllLines(path, [TaskJsonl.Serialize(splits.Train[0]), badLine]);
        var error = Assert.Throws<DataFormatException>(() => TaskJsonl.Read(path));
        Assert.StartsWith($"{path}:2: ", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        string path = Path.Combine(Dir, "nope.jsonl");
        var error = Assert.Throws<FileNotFoundException>(() => TaskJsonl.Read(path));
        Assert.Contains(path, error.Message);
    }
}
