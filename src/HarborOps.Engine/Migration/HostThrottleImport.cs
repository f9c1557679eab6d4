// HostThrottle moved to Resilience, next to the rest of the per-host policy. The copier (ImageCopier.cs, being split
// by another change of issue 14) still names it without a using; this alias keeps it compiling until that file gets
// `using HarborOps.Engine.Resilience;`, and then goes.
global using HostThrottle = HarborOps.Engine.Resilience.HostThrottle;
