namespace Flow.ControlPlane;

/// <summary>A record with the store's version of it, for optimistic concurrency.</summary>
/// <typeparam name="T">The record type.</typeparam>
/// <param name="Record">The record.</param>
/// <param name="Version">An opaque version (an ETag, a row version); changes with every write.</param>
public sealed record Versioned<T>(T Record, string Version);
