using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using PfPpo.IO;
using static TorchSharp.torch;

namespace PfPpo.Checkpoints;

/// <summary>One tensor's header entry: its dtype name (F32, F16, BF16), shape and byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Name, string DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// <c>{name: {dtype, shape, data_offsets}, "__metadata__": {...}}</c>, then the raw little-endian tensor data.
/// Opening validates the whole header (dtypes, shapes against byte counts, offsets within the file, no overlaps), so a
/// truncated or corrupted file fails with a message naming the file and tensor before any weight is read.
/// Tensors are read one at a time, straight into the tensor's memory.
/// </summary>
public sealed class Safetensors : IDisposable
{
    private const long MaxHeaderBytes = 100L << 20;
    private readonly SafeFileHandle handle;
    private readonly long dataStart;

    private Safetensors(string path, SafeFileHandle handle, long dataStart, Dictionary<string, SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        FilePath = path;
        this.handle = handle;
        this.dataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    public string FilePath { get; }

    /// <summary>The tensors in the file, by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The string-to-string <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens a file and validates its header; throws <see cref="InvalidDataException"/> naming the file and tensor.</summary>
    public static Safetensors Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        }
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length < 8)
            {
                throw new InvalidDataException($"{path}: {length} bytes is too short for a safetensors file (truncated?).");
            }
            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(handle, prefix, 0, path);
            long headerLength = BitConverter.ToInt64(prefix);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > length)
            {
                throw new InvalidDataException(
                    $"{path}: header length {headerLength} is invalid for a file of {length} bytes (truncated or not a safetensors file).");
            }
            byte[] headerBytes = new byte[headerLength];
            ReadExactly(handle, headerBytes, 8, path);
            long dataStart = 8 + headerLength;
            (var entries, var metadata) = ParseHeader(headerBytes, path, length - dataStart);
            return new Safetensors(path, handle, dataStart, entries, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads one tensor into a new CPU tensor of its stored dtype and shape.</summary>
    public Tensor Read(string name)
    {
        if (!Entries.TryGetValue(name, out SafetensorsEntry? entry))
        {
            throw new KeyNotFoundException($"{FilePath}: no tensor named '{name}'.");
        }
        if (entry.ByteCount > int.MaxValue)
        {
            throw new NotSupportedException($"{FilePath}: tensor '{name}' has {entry.ByteCount} bytes; tensors over 2 GiB are not supported.");
        }
        Tensor result = empty(entry.Shape.ToArray(), ParseDType(entry.DType, FilePath, name), CPU);
        try
        {
            if (entry.ByteCount > 0)
            {
                ReadExactly(handle, result.bytes, dataStart + entry.Begin, FilePath);
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    public void Dispose() => handle.Dispose();

    /// <summary>
    /// Writes tensors (converted one at a time to <paramref name="storageDtype"/>, moved to the CPU) to
    /// <paramref name="path"/> atomically, with <c>__metadata__</c> <c>{"format": "pt"}</c>.
    /// </summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, ScalarType storageDtype)
    {
        string dtypeName = DTypeName(storageDtype);
        int elementSize = ElementSize(storageDtype);
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        foreach ((string name, Tensor tensor) in tensors)
        {
            long bytes = tensor.numel() * elementSize;
            if (bytes > int.MaxValue)
            {
                throw new NotSupportedException($"{path}: tensor '{name}' has {bytes} bytes as {dtypeName}; tensors over 2 GiB are not supported.");
            }
            header[name] = new JsonObject
            {
                ["dtype"] = dtypeName,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // The data section starts 8-byte aligned; the header is padded with spaces.
        byte[] headerBytes = new byte[padded];
        json.CopyTo(headerBytes, 0);
        headerBytes.AsSpan(json.Length).Fill((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((long)padded));
            stream.Write(headerBytes);
            foreach ((string _, Tensor tensor) in tensors)
            {
                using var scope = NewDisposeScope();
                Tensor stored = tensor.detach().to(storageDtype, CPU).contiguous();
                if (stored.numel() > 0)
                {
                    stream.Write(stored.bytes);
                }
            }
        });
    }

    /// <summary>The safetensors dtype name of a supported storage dtype.</summary>
    public static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        _ => throw new ArgumentException($"Storage dtype {dtype} is not supported (F32, F16 or BF16).", nameof(dtype)),
    };

    /// <summary>The HF <c>torch_dtype</c> name of a supported storage dtype.</summary>
    public static string TorchDTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => throw new ArgumentException($"Storage dtype {dtype} is not supported (float32, float16 or bfloat16).", nameof(dtype)),
    };

    private static ScalarType ParseDType(string name, string path, string tensor) => name switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        _ => throw new InvalidDataException($"{path}: tensor '{tensor}' has dtype {name}; only F32, F16 and BF16 are supported."),
    };

    private static int ElementSize(ScalarType dtype) => dtype == ScalarType.Float32 ? 4 : 2;

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(byte[] headerBytes, string path, long dataLength)
    {
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes) as JsonObject ?? throw new InvalidDataException($"{path}: the header is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON ({e.Message}); the file is corrupt or not safetensors.", e);
        }
        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string name, JsonNode? node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject meta)
                {
                    foreach ((string key, JsonNode? value) in meta)
                    {
                        metadata[key] = value?.ToString() ?? "";
                    }
                }
                continue;
            }
            entries[name] = ParseEntry(name, node, path, dataLength);
        }
        SafetensorsEntry? previous = null;
        foreach (SafetensorsEntry entry in entries.Values.Where(e => e.ByteCount > 0).OrderBy(e => e.Begin))
        {
            if (previous is not null && entry.Begin < previous.End)
            {
                throw new InvalidDataException($"{path}: tensors '{previous.Name}' and '{entry.Name}' overlap in the data section.");
            }
            previous = entry;
        }
        return (entries, metadata);
    }

    private static SafetensorsEntry ParseEntry(string name, JsonNode? node, string path, long dataLength)
    {
        try
        {
            if (node is not JsonObject entry || entry["dtype"] is null || entry["shape"] is not JsonArray shapeJson || entry["data_offsets"] is not JsonArray offsets || offsets.Count != 2)
            {
                throw new InvalidDataException($"{path}: tensor '{name}' needs dtype, shape and a two-element data_offsets.");
            }
            string dtype = entry["dtype"]!.GetValue<string>();
            ScalarType scalarType = ParseDType(dtype, path, name);
            long[] shape = shapeJson.Select(d => d?.GetValue<long>() ?? -1).ToArray();
            if (shape.Any(d => d < 0))
            {
                throw new InvalidDataException($"{path}: tensor '{name}' has an invalid shape [{string.Join(", ", shape)}].");
            }
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            long expected = shape.Aggregate(1L, (a, d) => checked(a * d)) * ElementSize(scalarType);
            if (begin < 0 || end < begin || end - begin != expected)
            {
                throw new InvalidDataException(
                    $"{path}: tensor '{name}' ({dtype} [{string.Join(", ", shape)}]) needs {expected} bytes but data_offsets [{begin}, {end}] give {end - begin}.");
            }
            if (end > dataLength)
            {
                throw new InvalidDataException(
                    $"{path}: tensor '{name}' ends at data byte {end} but the data section has only {dataLength} bytes (the file is truncated).");
            }
            return new SafetensorsEntry(name, dtype, shape, begin, end);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: the header entry of tensor '{name}' is malformed ({e.Message}).", e);
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        while (buffer.Length > 0)
        {
            int read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0)
            {
                throw new InvalidDataException($"{path}: unexpected end of file at byte {offset} (the file is truncated).");
            }
            buffer = buffer[read..];
            offset += read;
        }
    }
}
