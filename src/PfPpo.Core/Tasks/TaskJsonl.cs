using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PfPpo.Tasks;

/// <summary>
/// Reads and writes task files: one JSON object a line with the HumanEval fields (task_id, prompt,
/// canonical_solution, test, entry_point) plus io_tests, family, wording, difficulty and held_out.
/// </summary>
public static class TaskJsonl
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="tasks"/> to <paramref name="path"/> through a temporary file, so a crash never leaves a partial file.</summary>
    public static void Write(string path, IEnumerable<CodeTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        string fullPath = Path.GetFullPath(path);
        string temporary = $"{fullPath}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true) { NewLine = "\n" })
                {
                    foreach (CodeTask task in tasks)
                    {
                        writer.WriteLine(Serialize(task));
                    }
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>One task as a single line of JSON (no trailing newline).</summary>
    public static string Serialize(CodeTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteTask(writer, task);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses one line of a task file; throws <see cref="JsonException"/> or <see cref="FormatException"/> on bad input.</summary>
    public static CodeTask Deserialize(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        return ReadTask(document.RootElement);
    }

    /// <summary>
    /// Reads a task file. Plain HumanEval files load too: io_tests then is empty, family "", wording 0,
    /// difficulty 0 and held_out false. Throws <see cref="InvalidDataException"/> naming the file and line of bad input.
    /// </summary>
    public static IReadOnlyList<CodeTask> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"task file not found: {path}", path);
        }
        var tasks = new List<CodeTask>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            try
            {
                tasks.Add(Deserialize(line));
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {e.Message}", e);
            }
        }
        return tasks;
    }

    private static void WriteTask(Utf8JsonWriter writer, CodeTask task)
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
            writer.WriteStartArray("input");
            foreach (JsonElement argument in io.Input)
            {
                argument.WriteTo(writer);
            }
            writer.WriteEndArray();
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

    private static CodeTask ReadTask(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"expected a JSON object, got {root.ValueKind}");
        }
        var ioTests = new List<IoTest>();
        if (root.TryGetProperty("io_tests", out JsonElement tests))
        {
            if (tests.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("field 'io_tests' must be an array");
            }
            int index = 0;
            foreach (JsonElement test in tests.EnumerateArray())
            {
                if (test.ValueKind != JsonValueKind.Object
                    || !test.TryGetProperty("input", out JsonElement input) || input.ValueKind != JsonValueKind.Array
                    || !test.TryGetProperty("output", out JsonElement output))
                {
                    throw new FormatException($"io_tests[{index}] must be an object with an 'input' array and an 'output'");
                }
                ioTests.Add(new IoTest([.. input.EnumerateArray().Select(e => e.Clone())], output.Clone()));
                index++;
            }
        }
        return new CodeTask(
            RequiredString(root, "task_id"),
            RequiredString(root, "prompt"),
            RequiredString(root, "canonical_solution"),
            RequiredString(root, "test"),
            RequiredString(root, "entry_point"),
            ioTests,
            root.TryGetProperty("family", out JsonElement family) ? family.GetString() ?? "" : "",
            OptionalInt(root, "wording"),
            OptionalInt(root, "difficulty"),
            root.TryGetProperty("held_out", out JsonElement heldOut) && heldOut.ValueKind == JsonValueKind.True);
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"missing or non-string field '{name}'");

    private static int OptionalInt(JsonElement root, string name) =>
        !root.TryGetProperty(name, out JsonElement value) ? 0
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) ? number
        : throw new FormatException($"field '{name}' must be an integer");
}
