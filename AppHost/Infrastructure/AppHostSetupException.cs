namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// The AppHost's settings or the machine do not allow the shop to start (a setting out of range, a port in use). The
/// message is one line for the person at the terminal: what is wrong and how to fix it.
/// </summary>
public sealed class AppHostSetupException(string message) : Exception(message);
