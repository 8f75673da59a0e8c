namespace PfPpo.Runtime;

/// <summary>An <see cref="IProgress{T}"/> that calls its handler on the reporting thread (Progress&lt;T&gt; would post it elsewhere).</summary>
public sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
