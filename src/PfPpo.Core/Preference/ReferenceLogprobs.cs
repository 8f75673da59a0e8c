using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Preference;

/// <summary>Σ log π_ref over the response tokens of each sequence, and the key of what they were computed from.</summary>
public sealed record ReferenceValues(string Key, float[] Sums);

/// <summary>
/// The reference model's summed response log-probs, computed once (with <see cref="TokenLogprobs"/>) and cached in the
/// run folder as <c>reference_logprobs.json</c>. The cache is keyed by a hash of the reference model's files, the dtype
/// and every token id of every sequence, so a changed model, pairs file, split or tokenisation is detected and recomputed.
/// </summary>
public static class ReferenceLogprobs
{
    public const string CacheFile = "reference_logprobs.json";

    /// <summary>The cache key of <paramref name="sequences"/> under the reference model <paramref name="referenceDir"/>.</summary>
    public static string Key(string referenceDir, ScalarType dtype, IReadOnlyList<TokenSequence> sequences)
    {
        RunFingerprint model = RunFingerprint.Of(new { DType = dtype.ToString() }, new Dictionary<string, string> { ["reference"] = referenceDir });
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach ((string name, string value) in model.Items)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name + "=" + value + "\n"));
        }
        foreach (TokenSequence sequence in sequences)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(string.Join(',', sequence.Prompt) + "|" + string.Join(',', sequence.Completion) + "\n"));
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLower(CultureInfo.InvariantCulture);
    }

    /// <summary>The cached values in <paramref name="path"/> when their key is <paramref name="key"/>, else null.</summary>
    public static ReferenceValues? TryLoad(string path, string key, int count)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            ReferenceValues? cached = JsonSerializer.Deserialize<ReferenceValues>(File.ReadAllText(path));
            return cached is not null && cached.Key == key && cached.Sums.Length == count ? cached : null;
        }
        catch (JsonException)
        {
            return null; // a damaged cache is recomputed
        }
    }

    public static void Write(string path, ReferenceValues values) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(values));

    /// <summary>Σ log π(response | prompt) over the completion tokens of each sequence, without gradients, in eval mode.</summary>
    public static float[] Sums(CausalLM model, IReadOnlyList<TokenSequence> sequences, int padTokenId, int batchSize, Device device)
    {
        var sums = new List<float>(sequences.Count);
        using (model.EvalMode())
        using (no_grad())
        {
            foreach (TokenSequence[] chunk in sequences.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                TokenBatch batch = TokenBatch.Collate(chunk, padTokenId, Padding.Right, device);
                sums.AddRange(TokenLogprobs.Compute(model, batch).sum(1).cpu().data<float>().ToArray());
            }
        }
        return [.. sums];
    }
}
