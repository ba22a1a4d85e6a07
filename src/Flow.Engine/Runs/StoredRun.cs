// Part of the storage contract: see FlowRunRecord.cs for why the namespace is Storage.
namespace Flow.Engine.Storage;

/// <summary>A run record with the store's version of it, for optimistic concurrency.</summary>
/// <param name="Record">The record.</param>
/// <param name="Version">An opaque version (an ETag, a row version); changes with every write.</param>
public sealed record StoredRun(FlowRunRecord Record, string Version);
