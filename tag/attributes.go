package tag

// Attributes are ACR's changeable attributes. Repositories, tags and
// manifests each carry their own set; all four are true by default.
//
// JSON field names are ACR's, so the type marshals as a
// changeableAttributes object.
type Attributes struct {
	// DeleteEnabled false forbids deleting the item (updates stay allowed).
	DeleteEnabled bool `json:"deleteEnabled"`
	// WriteEnabled false locks the item: no overwrite, untag or delete. On a
	// repository it locks everything in it.
	WriteEnabled bool `json:"writeEnabled"`
	// ReadEnabled false forbids pulling the item.
	ReadEnabled bool `json:"readEnabled"`
	// ListEnabled false hides the item from listings.
	ListEnabled bool `json:"listEnabled"`
}

// DefaultAttributes returns the attributes of a new item: everything enabled.
func DefaultAttributes() Attributes {
	return Attributes{DeleteEnabled: true, WriteEnabled: true, ReadEnabled: true, ListEnabled: true}
}

// Locked reports whether the item may not be overwritten, untagged or
// deleted: writeEnabled or deleteEnabled is false. Purge skips such items
// unless told to include locked ones.
func (a Attributes) Locked() bool { return !a.WriteEnabled || !a.DeleteEnabled }

// Patch is a partial change of Attributes: nil fields stay as they are. It
// unmarshals from ACR's PATCH bodies such as {"writeEnabled": false}.
type Patch struct {
	// DeleteEnabled, when set, replaces Attributes.DeleteEnabled.
	DeleteEnabled *bool `json:"deleteEnabled,omitempty"`
	// WriteEnabled, when set, replaces Attributes.WriteEnabled.
	WriteEnabled *bool `json:"writeEnabled,omitempty"`
	// ReadEnabled, when set, replaces Attributes.ReadEnabled.
	ReadEnabled *bool `json:"readEnabled,omitempty"`
	// ListEnabled, when set, replaces Attributes.ListEnabled.
	ListEnabled *bool `json:"listEnabled,omitempty"`
}

// Apply returns a with the fields set in p replaced.
func (p Patch) Apply(a Attributes) Attributes {
	if p.DeleteEnabled != nil {
		a.DeleteEnabled = *p.DeleteEnabled
	}
	if p.WriteEnabled != nil {
		a.WriteEnabled = *p.WriteEnabled
	}
	if p.ReadEnabled != nil {
		a.ReadEnabled = *p.ReadEnabled
	}
	if p.ListEnabled != nil {
		a.ListEnabled = *p.ListEnabled
	}
	return a
}

// Empty reports whether p changes nothing.
func (p Patch) Empty() bool {
	return p.DeleteEnabled == nil && p.WriteEnabled == nil && p.ReadEnabled == nil && p.ListEnabled == nil
}
