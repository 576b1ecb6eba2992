namespace AspireShop.Hosting.Processes;

/// <summary>
/// The machine is not ready to run the shop (a prerequisite is missing, a port is taken, a data folder is in use).
/// The message is one line for the person at the terminal: what is wrong and how to fix it.
/// </summary>
public sealed class InfrastructureSetupException(string message) : Exception(message);
