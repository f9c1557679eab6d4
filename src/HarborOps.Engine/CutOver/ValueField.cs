namespace HarborOps.Engine.CutOver;

/// <summary>
/// One value in a file: its role, its readable key path, where it sits (a character span of the file's text, inside any quotes) and whether
/// that span holds exactly the value (no escapes, no folding), which is when it can be replaced in place.
/// </summary>
internal sealed record ValueField(FieldRole Role, string Name, string Value, int Start, int Length, bool Editable, bool Templated);
