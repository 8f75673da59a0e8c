using TorchSharp;

namespace PfPpo.Model;

/// <summary>Switches a module to eval (or train) mode for a scope and restores the mode it had: <c>using (model.EvalMode()) { ... }</c>.</summary>
public static class ModuleModes
{
    public static ModeScope EvalMode(this torch.nn.Module module) => new(module, training: false);

    public static ModeScope TrainMode(this torch.nn.Module module) => new(module, training: true);

    /// <summary>Restores the module's previous mode when disposed.</summary>
    public readonly struct ModeScope : IDisposable
    {
        private readonly torch.nn.Module module;
        private readonly bool previous;

        internal ModeScope(torch.nn.Module module, bool training)
        {
            this.module = module;
            previous = module.training;
            module.train(training);
        }

        public void Dispose() => module.train(previous);
    }
}
