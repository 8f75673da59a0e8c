using System.Runtime.InteropServices;
using System.Text;

namespace PfPpo.Tokenization;

/// <summary>
/// Unicode normalization through the system's ICU (libicuuc). The solution runs with
/// <c>InvariantGlobalization</c>, in which <see cref="string.Normalize(NormalizationForm)"/> returns its input
/// unchanged, so tokenizer.json normalizers (NFC for Qwen2) call ICU directly. ICU exports its C functions with a
/// version suffix (<c>unorm2_normalize_72</c> on Debian 12); the library and suffix are probed once.
/// </summary>
internal sealed unsafe class IcuNormalizer
{
    private const int BufferOverflowError = 15; // U_BUFFER_OVERFLOW_ERROR

    private static readonly Lazy<IcuNormalizer?> Shared = new(Open, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly delegate* unmanaged<int*, nint>[] _getInstance;
    private readonly delegate* unmanaged<nint, char*, int, char*, int, int*, int> _normalize;

    private IcuNormalizer(delegate* unmanaged<int*, nint>[] getInstance, delegate* unmanaged<nint, char*, int, char*, int, int*, int> normalize)
    {
        _getInstance = getInstance;
        _normalize = normalize;
    }

    /// <summary>Normalizes <paramref name="text"/> to <paramref name="form"/>.</summary>
    /// <exception cref="PlatformNotSupportedException">No ICU library could be found.</exception>
    public static string Normalize(string text, NormalizationForm form)
    {
        if (text.Length == 0 || IsAscii(text))
        {
            return text; // ASCII is invariant under all four forms.
        }
        IcuNormalizer icu = Shared.Value
            ?? throw new PlatformNotSupportedException("Unicode normalization needs the ICU library (libicuuc), which was not found; install libicu.");
        return icu.Run(text, form);
    }

    private static bool IsAscii(string text) => Ascii.IsValid(text);

    private string Run(string text, NormalizationForm form)
    {
        int index = form switch
        {
            NormalizationForm.FormC => 0,
            NormalizationForm.FormD => 1,
            NormalizationForm.FormKC => 2,
            NormalizationForm.FormKD => 3,
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, null),
        };
        int status = 0;
        nint normalizer = _getInstance[index](&status);
        ThrowIfFailed(status, "unorm2_get*Instance");
        int capacity = text.Length * 2 + 16;
        while (true)
        {
            char[] buffer = new char[capacity];
            status = 0;
            int length;
            fixed (char* source = text)
            fixed (char* destination = buffer)
            {
                length = _normalize(normalizer, source, text.Length, destination, capacity, &status);
            }
            if (status == BufferOverflowError)
            {
                capacity = length + 16;
                continue;
            }
            ThrowIfFailed(status, "unorm2_normalize");
            return new string(buffer, 0, length);
        }
    }

    private static void ThrowIfFailed(int status, string function)
    {
        if (status > 0)
        {
            throw new InvalidOperationException($"ICU {function} failed with UErrorCode {status}.");
        }
    }

    private static IcuNormalizer? Open()
    {
        for (int version = 90; version >= 50; version--)
        {
            if (NativeLibrary.TryLoad($"libicuuc.so.{version}", out nint library)
                && TryOpen(library, $"_{version}") is { } normalizer)
            {
                return normalizer;
            }
        }
        return NativeLibrary.TryLoad("libicuuc.so", out nint unversioned) ? TryOpen(unversioned, "") : null;
    }

    private static IcuNormalizer? TryOpen(nint library, string suffix)
    {
        string[] names = ["unorm2_getNFCInstance", "unorm2_getNFDInstance", "unorm2_getNFKCInstance", "unorm2_getNFKDInstance"];
        var getInstance = new delegate* unmanaged<int*, nint>[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!NativeLibrary.TryGetExport(library, names[i] + suffix, out nint address))
            {
                return null;
            }
            getInstance[i] = (delegate* unmanaged<int*, nint>)address;
        }
        return NativeLibrary.TryGetExport(library, "unorm2_normalize" + suffix, out nint normalize)
            ? new IcuNormalizer(getInstance, (delegate* unmanaged<nint, char*, int, char*, int, int*, int>)normalize)
            : null;
    }
}
