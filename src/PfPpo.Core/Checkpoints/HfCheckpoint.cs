using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.IO;
using PfPpo.Model;
using static TorchSharp.torch;

namespace PfPpo.Checkpoints;

/// <summary>
/// Hugging Face checkpoint directories: config.json, generation_config.json and safetensors weights (one
/// model.safetensors, or shards listed in model.safetensors.index.json), with the exact HF weight names of
/// Qwen2/Llama ForCausalLM and ForSequenceClassification. Errors name the file and the tensor.
/// </summary>
public static class HfCheckpoint
{
    public const string ConfigFile = "config.json";
    public const string GenerationConfigFile = "generation_config.json";
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string TokenizerFile = "tokenizer.json";

    /// <summary>Reads and validates <c>dir/config.json</c>.</summary>
    public static ModelConfig LoadConfig(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"Checkpoint directory not found: {dir}");
        }
        string path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{dir}: no {ConfigFile} (not a Hugging Face checkpoint directory).", path);
        }
        return ModelConfig.Load(path);
    }

    /// <summary>
    /// The end-of-sequence ids to stop generation on: generation_config.json's eos_token_id when present
    /// (it may list several, e.g. chat models), else config.json's.
    /// </summary>
    public static IReadOnlyList<int> LoadEosTokenIds(string dir)
    {
        ModelConfig config = LoadConfig(dir);
        string path = Path.Combine(dir, GenerationConfigFile);
        if (File.Exists(path))
        {
            try
            {
                JsonNode? eos = JsonNode.Parse(File.ReadAllText(path))?["eos_token_id"];
                if (eos is JsonArray ids)
                {
                    return ids.Select(id => id!.GetValue<int>()).ToArray();
                }
                if (eos is not null)
                {
                    return [eos.GetValue<int>()];
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new InvalidDataException($"{path}: eos_token_id must be an integer or a list of integers ({e.Message}).", e);
            }
        }
        return config.EosTokenIds;
    }

    /// <summary>Loads a causal LM from a Qwen2ForCausalLM / LlamaForCausalLM checkpoint onto <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public static CausalLM LoadCausalLM(string dir, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        ModelConfig config = LoadConfig(dir);
        if (config.Architectures.Any(a => a.EndsWith("ForSequenceClassification", StringComparison.Ordinal)))
        {
            throw new InvalidDataException(
                $"{Path.Combine(dir, ConfigFile)}: architectures [{string.Join(", ", config.Architectures)}] is a scalar-head model, not a causal LM; load it as a reward/value model.");
        }
        var model = new CausalLM(config, device ?? CPU, dtype); // uninitialised parameters, filled from the file below
        try
        {
            LoadWeights(model, dir, optional: name => false, ignored: name => config.TieWordEmbeddings && name == "lm_head.weight");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a scalar-head (reward or value) model. From a ForSequenceClassification checkpoint all weights are loaded;
    /// from a ForCausalLM checkpoint the backbone is loaded, lm_head is ignored, and <c>score</c> is freshly
    /// initialised (normal(0, 0.02) from <paramref name="seed"/>), which is how reward models and critics start.
    /// </summary>
    public static ScalarHeadModel LoadScalarHead(string dir, Device? device = null, ScalarType dtype = ScalarType.Float32, long seed = 0)
    {
        ModelConfig config = LoadConfig(dir);
        bool fromCausalLM = !config.Architectures.Any(a => a.EndsWith("ForSequenceClassification", StringComparison.Ordinal));
        if (!fromCausalLM && config.NumLabels is int labels && labels != 1)
        {
            throw new InvalidDataException($"{Path.Combine(dir, ConfigFile)}: num_labels is {labels}; a scalar head needs 1.");
        }
        var model = new ScalarHeadModel(config with
        {
            Architectures = [config.ScalarHeadArchitecture],
            NumLabels = 1,
        }, device ?? CPU, dtype);
        try
        {
            if (fromCausalLM)
            {
                model.InitializeScore(seed);
            }
            LoadWeights(model, dir, optional: name => fromCausalLM && name == "score.weight", ignored: name => name == "lm_head.weight");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Saves a causal LM as a HF checkpoint (see <see cref="Save(IReadOnlyList{KeyValuePair{string, Tensor}}, ModelConfig, string, ScalarType, long?)"/>).
    /// <paramref name="weights"/>, when given, is written instead of the module's own state (fp32 master weights of a
    /// model that computes in bf16, for example), by state_dict name.
    /// </summary>
    public static void Save(CausalLM model, string dir, ScalarType storageDtype = ScalarType.Float32, long? maxShardBytes = null,
        IReadOnlyDictionary<string, Tensor>? weights = null) =>
        Save(State(model, weights), model.Config with { Architectures = [model.Config.CausalLMArchitecture] }, dir, storageDtype, maxShardBytes);

    /// <summary>Saves a scalar-head model as a HF ForSequenceClassification checkpoint with num_labels 1 (<paramref name="weights"/> as above).</summary>
    public static void Save(ScalarHeadModel model, string dir, ScalarType storageDtype = ScalarType.Float32, long? maxShardBytes = null,
        IReadOnlyDictionary<string, Tensor>? weights = null) =>
        Save(State(model, weights), model.Config with
        {
            Architectures = [model.Config.ScalarHeadArchitecture],
            NumLabels = 1,
            // HF's ForSequenceClassification needs a pad token to find each row's last token in a batch.
            PadTokenId = model.Config.PadTokenId ?? (model.Config.EosTokenIds.Count > 0 ? model.Config.EosTokenIds[0] : null),
        }, dir, storageDtype, maxShardBytes);

    /// <summary>
    /// Writes config.json, generation_config.json and the weights (one model.safetensors, or shards of at most
    /// <paramref name="maxShardBytes"/> with model.safetensors.index.json). Every file is written to a temporary name and
    /// renamed into place; weight files of an older save that the new one does not use are removed afterwards.
    /// </summary>
    private static List<KeyValuePair<string, Tensor>> State(nn.Module model, IReadOnlyDictionary<string, Tensor>? weights)
    {
        Dictionary<string, Tensor> state = model.state_dict();
        if (weights is not null && !weights.Keys.ToHashSet().SetEquals(state.Keys))
        {
            throw new ArgumentException("The weights to save must have exactly the module's state_dict names.", nameof(weights));
        }
        return state.Select(kv => KeyValuePair.Create(kv.Key, weights?[kv.Key] ?? kv.Value)).ToList();
    }

    /// <summary>
    /// Copies the weights of the checkpoint in <paramref name="dir"/> into an existing model of the same shape (resuming
    /// training into a model that is already built and on its device); errors name the checkpoint and the tensors.
    /// </summary>
    public static void LoadInto(nn.Module model, string dir) =>
        LoadInto(model.state_dict(), model.GetType().Name, dir);

    /// <summary>
    /// Copies the checkpoint's weights into <paramref name="targets"/> (state_dict names to tensors of the right shape, in any
    /// dtype: fp32 master weights, for example); <paramref name="what"/> names them in errors.
    /// </summary>
    public static void LoadInto(IReadOnlyDictionary<string, Tensor> targets, string what, string dir) =>
        LoadWeights(targets, what, dir, optional: _ => false, ignored: name => name == "lm_head.weight" && !targets.ContainsKey(name));

    private static void Save(List<KeyValuePair<string, Tensor>> tensors, ModelConfig config, string dir, ScalarType storageDtype, long? maxShardBytes)
    {
        if (maxShardBytes is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxShardBytes), maxShardBytes, "The shard size must be positive.");
        }
        Directory.CreateDirectory(dir);
        int elementSize = storageDtype == ScalarType.Float32 ? 4 : 2;
        long total = tensors.Sum(t => t.Value.numel() * elementSize);

        var shards = new List<List<KeyValuePair<string, Tensor>>>();
        if (maxShardBytes is long max && total > max)
        {
            long current = 0;
            foreach (KeyValuePair<string, Tensor> tensor in tensors)
            {
                long bytes = tensor.Value.numel() * elementSize;
                if (shards.Count == 0 || current > 0 && current + bytes > max)
                {
                    shards.Add([]);
                    current = 0;
                }
                shards[^1].Add(tensor);
                current += bytes;
            }
        }
        else
        {
            shards.Add(tensors);
        }

        var written = new HashSet<string>(StringComparer.Ordinal);
        if (shards.Count == 1)
        {
            Safetensors.Write(Path.Combine(dir, WeightsFile), tensors, storageDtype);
            written.Add(WeightsFile);
        }
        else
        {
            var weightMap = new JsonObject();
            for (int i = 0; i < shards.Count; i++)
            {
                string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                Safetensors.Write(Path.Combine(dir, file), shards[i], storageDtype);
                written.Add(file);
                foreach ((string name, Tensor _) in shards[i])
                {
                    weightMap[name] = file;
                }
            }
            var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
            AtomicFile.WriteAllText(Path.Combine(dir, IndexFile), index.ToJsonString(ModelConfig.JsonOptions) + "\n");
            written.Add(IndexFile);
        }

        ModelConfig saved = config with { TorchDtype = Safetensors.TorchDTypeName(storageDtype) };
        saved.Save(Path.Combine(dir, ConfigFile));
        var generation = new JsonObject();
        if (saved.BosTokenId is int bos)
        {
            generation["bos_token_id"] = bos;
        }
        if (saved.EosTokenIds.Count > 0)
        {
            generation["eos_token_id"] = ModelConfig.EosJson(saved.EosTokenIds);
        }
        if (saved.PadTokenId is int pad)
        {
            generation["pad_token_id"] = pad;
        }
        generation["transformers_version"] = "4.46.0";
        AtomicFile.WriteAllText(Path.Combine(dir, GenerationConfigFile), generation.ToJsonString(ModelConfig.JsonOptions) + "\n");

        foreach (string stale in Directory.EnumerateFiles(dir, "model*.safetensors*").Select(f => Path.GetFileName(f)))
        {
            if (!written.Contains(stale) && (stale == WeightsFile || stale == IndexFile || IsShardName(stale)))
            {
                File.Delete(Path.Combine(dir, stale));
            }
        }
    }

    private static bool IsShardName(string file) =>
        file.StartsWith("model-", StringComparison.Ordinal) && file.Contains("-of-", StringComparison.Ordinal) && file.EndsWith(".safetensors", StringComparison.Ordinal);

    /// <summary>Opens the weight files of a checkpoint: name → the open file holding it.</summary>
    private static (Dictionary<string, Safetensors> Location, List<Safetensors> Files) OpenWeights(string dir)
    {
        var files = new List<Safetensors>();
        var location = new Dictionary<string, Safetensors>(StringComparer.Ordinal);
        try
        {
            string single = Path.Combine(dir, WeightsFile);
            string indexPath = Path.Combine(dir, IndexFile);
            if (File.Exists(single))
            {
                Safetensors file = Safetensors.Open(single);
                files.Add(file);
                foreach (string name in file.Entries.Keys)
                {
                    location[name] = file;
                }
            }
            else if (File.Exists(indexPath))
            {
                JsonObject? weightMap;
                try
                {
                    weightMap = JsonNode.Parse(File.ReadAllText(indexPath))?["weight_map"] as JsonObject;
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"{indexPath}: invalid JSON: {e.Message}", e);
                }
                if (weightMap is null)
                {
                    throw new InvalidDataException($"{indexPath}: no weight_map object.");
                }
                var opened = new Dictionary<string, Safetensors>(StringComparer.Ordinal);
                foreach ((string name, JsonNode? value) in weightMap)
                {
                    string shard = value?.GetValue<string>() ?? throw new InvalidDataException($"{indexPath}: weight_map entry '{name}' is null.");
                    if (!opened.TryGetValue(shard, out Safetensors? file))
                    {
                        string shardPath = Path.Combine(dir, shard);
                        if (!File.Exists(shardPath))
                        {
                            throw new InvalidDataException($"{indexPath}: shard '{shard}' (holding '{name}') does not exist.");
                        }
                        file = Safetensors.Open(shardPath);
                        files.Add(file);
                        opened[shard] = file;
                    }
                    if (!file.Entries.ContainsKey(name))
                    {
                        throw new InvalidDataException($"{indexPath}: tensor '{name}' is mapped to {shard}, which does not contain it.");
                    }
                    location[name] = file;
                }
            }
            else
            {
                throw new FileNotFoundException($"{dir}: no {WeightsFile} or {IndexFile}.", single);
            }
            return (location, files);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Copies every weight of <paramref name="model"/> from the checkpoint, tensor by tensor (converting dtype and device).
    /// All missing, unexpected and mis-shaped tensors are reported together.
    /// </summary>
    private static void LoadWeights(nn.Module model, string dir, Func<string, bool> optional, Func<string, bool> ignored) =>
        LoadWeights(model.state_dict(), model.GetType().Name, dir, optional, ignored);

    private static void LoadWeights(IReadOnlyDictionary<string, Tensor> expected, string what, string dir, Func<string, bool> optional,
        Func<string, bool> ignored)
    {
        (Dictionary<string, Safetensors> location, List<Safetensors> files) = OpenWeights(dir);
        try
        {
            var problems = new List<string>();
            foreach ((string name, Tensor target) in expected)
            {
                if (!location.TryGetValue(name, out Safetensors? file))
                {
                    if (!optional(name))
                    {
                        problems.Add($"missing tensor '{name}' (expected shape [{string.Join(", ", target.shape)}])");
                    }
                    continue;
                }
                IReadOnlyList<long> shape = file.Entries[name].Shape;
                if (!shape.SequenceEqual(target.shape))
                {
                    problems.Add($"{Path.GetFileName(file.FilePath)}: tensor '{name}' has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", target.shape)}]");
                }
            }
            foreach ((string name, Safetensors file) in location)
            {
                if (!expected.ContainsKey(name) && !ignored(name) && !name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal))
                {
                    problems.Add($"{Path.GetFileName(file.FilePath)}: unexpected tensor '{name}'");
                }
            }
            if (problems.Count > 0)
            {
                const int shown = 12;
                string more = problems.Count > shown ? $"\n  ... and {problems.Count - shown} more" : "";
                throw new InvalidDataException(
                    $"{dir}: the weights do not match a {what} with this config.json:\n  {string.Join("\n  ", problems.Take(shown))}{more}");
            }
            using (no_grad())
            {
                foreach ((string name, Tensor target) in expected)
                {
                    if (location.TryGetValue(name, out Safetensors? file))
                    {
                        using Tensor source = file.Read(name);
                        target.copy_(source);
                    }
                }
            }
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }
    }
}
