using System.Buffers;
using System.Text;
using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.IO;

namespace PfPpo.Tasks;

/// <summary>
/// Reads and writes the generated benchmark's files: one JSON object a line with the HumanEval fields (task_id,
/// prompt, canonical_solution, test, entry_point), io_tests, and the metadata family, wording, difficulty and
/// held_out. To score any benchmark (ours, HumanEval, MBPP) load it with <see cref="ProblemSet.Load"/>; this reader
/// is for the generated files with their metadata (SFT data, per-family analysis).
/// </summary>
public static class TaskJsonl
{
    /// <summary>Writes <paramref name="tasks"/> to <paramref name="path"/> through a temporary file, so a crash never leaves a partial file.</summary>
    public static void Write(string path, IEnumerable<CodeTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true) { NewLine = "\n" };
            foreach (CodeTask task in tasks)
            {
                writer.WriteLine(Serialize(task));
            }
        });
    }

    /// <summary>Reads a task file. Throws <see cref="DataFormatException"/> (<c>file:line: what is wrong</c>) or <see cref="FileNotFoundException"/>.</summary>
    public static IReadOnlyList<CodeTask> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such task file", path);
        }
        var tasks = new List<CodeTask>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                tasks.Add(Deserialize(line, $"{path}:{lineNumber}"));
            }
        }
        return tasks;
    }

    /// <summary>One task as a single line of JSON (no trailing newline).</summary>
    public static string Serialize(CodeTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, JsonLines.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("task_id", task.TaskId);
            writer.WriteString("prompt", task.Prompt);
            writer.WriteString("canonical_solution", task.CanonicalSolution);
            writer.WriteString("test", task.Test);
            writer.WriteString("entry_point", task.EntryPoint);
            writer.WriteStartArray("io_tests");
            foreach (IoTest io in task.IoTests)
            {
                writer.WriteStartObject();
                writer.WritePropertyName("input");
                io.Input.WriteTo(writer);
                writer.WritePropertyName("output");
                io.Output.WriteTo(writer);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("family", task.Family);
            writer.WriteNumber("wording", task.Wording);
            writer.WriteNumber("difficulty", task.Difficulty);
            writer.WriteBoolean("held_out", task.HeldOut);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses one line; <paramref name="where"/> (such as <c>file:line</c>) prefixes every <see cref="DataFormatException"/>.</summary>
    public static CodeTask Deserialize(string line, string where)
    {
        using JsonDocument document = JsonLines.Parse(line, where);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new DataFormatException($"{where}: expected a JSON object, got {root.ValueKind}");
        }
        JsonElement tests = Required(root, "io_tests", where, "an array", JsonValueKind.Array);
        var ioTests = new List<IoTest>(tests.GetArrayLength());
        foreach (JsonElement test in tests.EnumerateArray())
        {
            if (test.ValueKind != JsonValueKind.Object
                || !test.TryGetProperty("input", out JsonElement input) || input.ValueKind != JsonValueKind.Array
                || !test.TryGetProperty("output", out JsonElement output))
            {
                throw new DataFormatException($"{where}: io_tests[{ioTests.Count}] must be an object with an 'input' array and an 'output'");
            }
            ioTests.Add(new IoTest(input.Clone(), output.Clone()));
        }
        return new CodeTask(
            RequiredString(root, "task_id", where),
            RequiredString(root, "prompt", where),
            RequiredString(root, "canonical_solution", where),
            RequiredString(root, "test", where),
            RequiredString(root, "entry_point", where),
            ioTests,
            RequiredString(root, "family", where),
            RequiredInt(root, "wording", where),
            RequiredInt(root, "difficulty", where),
            Required(root, "held_out", where, "a boolean", JsonValueKind.True, JsonValueKind.False).ValueKind == JsonValueKind.True);
    }

    private static JsonElement Required(JsonElement root, string name, string where, string expected, params JsonValueKind[] kinds)
    {
        if (!root.TryGetProperty(name, out JsonElement value))
        {
            throw new DataFormatException($"{where}: missing field '{name}'");
        }
        if (!kinds.Contains(value.ValueKind))
        {
            throw new DataFormatException($"{where}: field '{name}' must be {expected}, got {value.ValueKind}");
        }
        return value;
    }

    private static string RequiredString(JsonElement root, string name, string where) =>
        Required(root, name, where, "a string", JsonValueKind.String).GetString()!;

    private static int RequiredInt(JsonElement root, string name, string where) =>
        Required(root, name, where, "an integer", JsonValueKind.Number).TryGetInt32(out int value)
            ? value
            : throw new DataFormatException($"{where}: field '{name}' must be an integer");
}
