using System.Text.Json;
using PfPpo.IO;
using PfPpo.Scoring;

namespace PfPpo.Rollouts;

/// <summary>
/// One line of the scored-samples jsonl that every command that samples writes (rm-data now; r2 and PPO next), so nothing
/// is generated twice and every number can be recomputed from files.
/// </summary>
/// <param name="Group">Index of the prompt in the rollout.</param>
/// <param name="Sample">Index of the response within its group.</param>
/// <param name="Tokens">The generated token ids, exactly what the reward sees (a final EOS included).</param>
/// <param name="Score">The actual score: the fraction of tests passed.</param>
/// <param name="Passed">All tests passed.</param>
/// <param name="Status">The sandbox's status (passed, failed, timeout, error); an error is an infrastructure failure, not a verdict.</param>
/// <param name="Reward">The raw, unnormalised reward-model score, once a reward model has scored the sample.</param>
/// <param name="Logprob">Sum of the sampled tokens' log-probabilities.</param>
public sealed record ScoredSample(string TaskId, int Group, int Sample, string Completion, int[] Tokens, double Score, bool Passed,
    string Status, double? Reward, double Logprob);

/// <summary>Writes and reads scored-samples jsonl (errors name the file, line and field).</summary>
public static class ScoredSamples
{
    /// <summary>The samples of a rollout, in group then sample order, without rewards.</summary>
    public static IReadOnlyList<ScoredSample> FromRollout(RolloutBatch batch) =>
        batch.Groups.SelectMany(g => g.Samples.Select(s => new ScoredSample(g.TaskId, g.PromptIndex, s.SampleIndex, s.Completion, s.TokenIds,
            s.Score.TestsTotal > 0 ? (double)s.Score.TestsPassed / s.Score.TestsTotal : 0.0, s.Score.Passed,
            s.Score.Status.ToString().ToLowerInvariant(), Reward: null, s.Logprobs.Sum(l => (double)l)))).ToArray();

    /// <summary>True when the sandbox gave a verdict (an infrastructure error is not one).</summary>
    public static bool HasVerdict(ScoredSample sample) => sample.Status != "error";

    public static void Write(string path, IEnumerable<ScoredSample> samples) => JsonLines.Write(path, samples, (writer, s) =>
    {
        writer.WriteStartObject();
        writer.WriteString("task_id", s.TaskId);
        writer.WriteNumber("group", s.Group);
        writer.WriteNumber("sample", s.Sample);
        writer.WriteString("completion", s.Completion);
        writer.WriteStartArray("tokens");
        foreach (int token in s.Tokens)
        {
            writer.WriteNumberValue(token);
        }
        writer.WriteEndArray();
        writer.WriteNumber("score", s.Score);
        writer.WriteBoolean("passed", s.Passed);
        writer.WriteString("status", s.Status);
        if (s.Reward is double reward)
        {
            writer.WriteNumber("reward", reward);
        }
        else
        {
            writer.WriteNull("reward");
        }
        writer.WriteNumber("logprob", s.Logprob);
        writer.WriteEndObject();
    });

    public static IReadOnlyList<ScoredSample> Read(string path)
    {
        var samples = new List<ScoredSample>();
        foreach ((string where, JsonElement root) in JsonLines.Read(path))
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException($"{where}: expected a JSON object (a scored sample).");
            }
            int[] tokens = root.TryGetProperty("tokens", out JsonElement t) && t.ValueKind == JsonValueKind.Array
                ? t.EnumerateArray().Select(e => e.TryGetInt32(out int id) ? id : throw new DataFormatException($"{where}: \"tokens\" must hold integers.")).ToArray()
                : throw new DataFormatException($"{where}: field \"tokens\" must be an array of token ids.");
            double? reward = root.TryGetProperty("reward", out JsonElement r) && r.ValueKind != JsonValueKind.Null ? Number(r, "reward", where) : null;
            samples.Add(new ScoredSample(Text(root, "task_id", where), Integer(root, "group", where), Integer(root, "sample", where),
                Text(root, "completion", where), tokens, Number(Field(root, "score", where), "score", where),
                Field(root, "passed", where).ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new DataFormatException($"{where}: field \"passed\" must be true or false."),
                },
                Text(root, "status", where), reward, Number(Field(root, "logprob", where), "logprob", where)));
        }
        return samples;
    }

    private static JsonElement Field(JsonElement root, string name, string where) =>
        root.TryGetProperty(name, out JsonElement value) ? value : throw new DataFormatException($"{where}: missing field \"{name}\".");

    private static string Text(JsonElement root, string name, string where) =>
        Field(root, name, where) is { ValueKind: JsonValueKind.String } value
            ? value.GetString()!
            : throw new DataFormatException($"{where}: field \"{name}\" must be a string.");

    private static int Integer(JsonElement root, string name, string where) =>
        Field(root, name, where) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out int number) && number >= 0
            ? number
            : throw new DataFormatException($"{where}: field \"{name}\" must be a non-negative integer.");

    private static double Number(JsonElement value, string name, string where) =>
        value.ValueKind == JsonValueKind.Number && double.IsFinite(value.GetDouble())
            ? value.GetDouble()
            : throw new DataFormatException($"{where}: field \"{name}\" must be a finite number, not {value.GetRawText()}.");
}
