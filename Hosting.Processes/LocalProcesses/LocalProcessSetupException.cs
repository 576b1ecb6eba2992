namespace AspireShop.Hosting.Processes;

/// <summary>
/// The machine cannot run a server as a local process (a program is missing, no free port, the data folder is in
/// use or is not ours). The message is one line for the person at the terminal: what is wrong and how to fix it.
/// </summary>
public sealed class LocalProcessSetupException(string message) : Exception(message);
