using System.Globalization;

namespace AspireShop.AppHost.Drills;

/// <summary>The arguments the drills and load commands ask for, the same way in the dashboard's dialog and the API.</summary>
internal static class DrillArguments
{
    public static InteractionInput Number(string name, string label, int defaultValue, string description) => new()
    {
        Name = name,
        Label = label,
        InputType = InputType.Number,
        Required = true,
        Value = defaultValue.ToString(CultureInfo.InvariantCulture),
        Description = description,
    };

    public static InteractionInput Seconds(int defaultValue, string description) => Number("seconds", "Seconds", defaultValue, description);

    /// <summary>Adds a validation error unless the number is within the range; the command does not run then.</summary>
    public static Func<InputsDialogValidationContext, Task> Within(params (string Name, int Min, int Max)[] ranges) => context =>
    {
        foreach (var (name, min, max) in ranges)
        {
            var input = context.Inputs[name];
            if (!int.TryParse(input.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                context.AddValidationError(input, $"Give a whole number from {min} to {max}.");
            }
        }

        return Task.CompletedTask;
    };

    public static int Get(this InteractionInputCollection arguments, string name)
        => int.Parse(arguments.GetString(name) ?? "", NumberStyles.Integer, CultureInfo.InvariantCulture);

    /// <summary>Enabled while the resource runs; a drill on a stopped resource has nothing to act on.</summary>
    public static ResourceCommandState WhileRunning(UpdateCommandStateContext context)
        => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;
}
