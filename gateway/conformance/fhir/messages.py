"""The ids and wording of the HL7 FHIR validator's messages for the rules we
share with it, so that a tester who runs both can compare line by line.

A finding of one of these rules carries the official message id as its rule
(``Extension_EXT_Unknown_NotHere``) and this wording, filled in. Rules that
are FHIRPath invariants keep their key (``per-1``, ``dom-3``) as the
official validator does. Rules the official validator has no message for
carry an id of ours, in lower case with a ``cg-`` prefix.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, str] = {
    # primitive types
    "Type_Specific_Checks_DT_String_Length": "value is longer than permitted maximum length of 1 MB (1048576 bytes)",
    "Type_Specific_Checks_DT_String_WS": "value should not start or finish with whitespace '{0}'",
    "Type_Specific_Checks_DT_String_WS_ALL": "value should not be all whitespace '{0}'",
    "Type_Specific_Checks_DT_URI_OID": "URI values cannot start with oid:",
    "Type_Specific_Checks_DT_URI_UUID": "URI values cannot start with uuid:",
    "Type_Specific_Checks_DT_UUID_Valid": "UUIDs must be valid and lowercase ({0})",
    "Type_Specific_Checks_DT_OID_Valid": "OIDs must be valid ({0})",
    "Type_Specific_Checks_DT_Identifier_System": "Identifier.system must be an absolute reference, not a local reference",
    "CONTAINED_ORPHAN_DOM3": "The contained resource '{0}' is not referenced to from elsewhere in the containing "
                             "resource nor does it refer to the containing resource (dom-3)",
    # extensions
    "Extension_EXT_Url_NotFound": "Extension.url is required in order to identify, use and validate the extension",
    "Extension_EXT_URL_Absolute": "Extension.url must be an absolute URL",
    "Extension_EXT_Unknown_NotHere": "The extension {0} could not be found so is not allowed here",
    "Extension_EXT_Unknown": "Unknown extension {0}",
    "Extension_EXT_SubExtension_Invalid": "Sub-extension url '{0}' is not defined by the Extension {1}",
    "Extension_EXT_Simple_WRONG": "The Extension '{0}' definition is for a simple extension, so it must contain a value, "
                                  "not extensions",
    "Extension_EXT_Simple_ABSENT": "The Extension '{0}' definition is for a simple extension, so it must contain a value",
    "Extension_EXT_Modifier_Y": "The Extension '{0}' must not be used as a modifierExtension (it's a regular extension)",
    "Extension_EXT_Modifier_N": "The Extension '{0}' must not be used as an extension (it's a modifierExtension)",
    "Extension_EXTP_Context_Wrong": "The extension {0} is not allowed to be used at this point (allowed = {1}; "
                                    "this element is {2})",
    "Extension_EXTM_Context_Wrong": "The modifier extension {0} is not allowed to be used at this point (allowed = {1}; "
                                    "this element is {2})",
    # bundles
    "Bundle_BUNDLE_Entry_NoFirst": "Documents or Messages must contain at least one entry",
    "Bundle_BUNDLE_Entry_NoFirstResource": "No resource on first entry",
    "Bundle_BUNDLE_Entry_Document": "The first entry in a document must be a composition",
    "Validation_BUNDLE_Message": "The first entry in a message must be a MessageHeader",
    "Bundle_BUNDLE_Entry_NoFullUrl": "Bundle entry missing fullUrl",
    "BUNDLE_ENTRY_URL_ABSOLUTE": "The fullUrl must be an absolute URL (not '{0}')",
    "BUNDLE_ENTRY_URL_MATCHES_NO_ID": "The fullUrl '{0}' looks like a RESTful server URL, but the resource has no id",
    "BUNDLE_ENTRY_URL_MATCHES_TYPE_ID": "The fullUrl '{0}' looks like a RESTful server URL, so it must end with the "
                                        "correct type and id (/{1}/{2})",
    "Bundle_BUNDLE_Entry_NotFound": "Can't find '{0}' in the bundle ({1})",
    "Bundle_BUNDLE_Not_Local": "URN reference is not locally contained within the bundle {0}",
    "Bundle_BUNDLE_MultipleMatches": "Multiple matches in bundle for reference {0}",
    "Bundle_BUNDLE_FullUrl_NeedVersion": "Entries matching fullURL {0} should declare meta/versionId because there are "
                                         "version-specific references",
    "Bundle_BUNDLE_Entry_Orphan_DOCUMENT": "Entry {0} isn't reachable by traversing links (forward or backward) from the "
                                           "Composition",
    "Bundle_BUNDLE_Entry_Orphan_MESSAGE": "Entry {0} isn't reachable by traversing links (forward or backward) from the "
                                          "MessageHeader, so its presence should be reviewed (is it needed to process the "
                                          "message?)",
    "BUNDLE_BUNDLE_ENTRY_REVERSE_R4": "Entry {0} isn't reachable by traversing forwards from the Composition. Only "
                                      "Provenance is approved to be used this way (R4 section 3.3.1)",
    "BUNDLE_BUNDLE_ENTRY_REVERSE_MSG": "Entry {0} isn't reachable by traversing forwards from the MessageHeader. Check "
                                       "that this is meant to be included (needed to process the message)",
    "DUPLICATE_ID": "Duplicate id value '{0}'",
    "BUNDLE_SEARCH_ENTRY_NO_RESOURCE": "SearchSet Bundle Entries must have resources",
    "BUNDLE_SEARCH_ENTRY_NO_RESOURCE_ID": "Search results must have ids",
    "BUNDLE_SEARCH_NOSELF": "SearchSet Bundles should have a self link that specifies what the search was",
    "BUNDLE_SEARCH_NO_MODE": "SearchSet bundles should have search modes on the entries",
    "BUNDLE_LINK_SEARCH_NO_DUPLICATES": "The link relationship type '{0}' can only occur once",
    # terminology
    "Terminology_TX_System_Relative": "Coding.system must be an absolute reference, not a local reference",
    "Terminology_TX_System_ValueSet2": "The Coding references a value set, not a code system ('{0}')",
    "Unknown_Code_in_Version": "Unknown code '{0}' in the CodeSystem '{1}' version '{2}'",
    "Display_Name_for__should_be_one_of__instead_of": "Wrong Display Name '{3}' for {0}#{1}. Valid display is {2}",
    "Display_Name_WS_for__should_be_one_of__instead_of": "Wrong whitespace in Display Name '{3}' for {0}#{1}. "
                                                         "Valid display is {2}",
    # strings, markdown, narrative
    "SECURITY_STRING_CONTENT_WARNING": "The string value contains text that looks like embedded HTML tags. If this "
                                       "content is rendered to HTML without appropriate post-processing, it may be a "
                                       "security risk",
    "TYPE_SPECIFIC_CHECKS_DT_MARKDOWN_HTML": "The markdown contains content that appears to be an embedded HTML tag "
                                             "starting at '{0}'. This will (or SHOULD) be escaped by the presentation "
                                             "layer. The content should be checked to confirm that this is the desired "
                                             "behaviour",
    "Error_parsing_XHTML_": "Error parsing XHTML: {0}",
    "XHTML_XHTML_Name_Invalid": "Wrong name on the XHTML ('{0}') - must start with div",
    "XHTML_XHTML_NS_InValid": "Wrong namespace on the XHTML ('{0}', should be '{1}')",
    "XHTML_XHTML_Element_Illegal": "Invalid element name in the XHTML ('{0}')",
    "XHTML_XHTML_Attribute_Illegal": "Invalid attribute name in the XHTML ('{0}' on '{1}')",
    "XHTML_XHTML_Image_Reference_Illegal": "Invalid Image Reference in the XHTML ('{0}')",
    "XHTML_URL_INVALID": "The URL is not valid because '({1})' : {0}",
    "Type_Specific_Checks_DT_XHTML_Resolve": "Hyperlink '{0}' at '{1}' for '{2}' does not resolve",
    "Type_Specific_Checks_DT_XHTML_Resolve_Img": "Image source '{0}' at '{1}' does not resolve",
    # profiles, URLs, attachments
    "Validation_VAL_Profile_WrongType": "Specified profile type was '{0}' in profile '{2}', but found type '{1}'",
    "Validation_VAL_Profile_Unknown": "Profile reference '{0}' has not been checked because it could not be found",
    "Unable_to_locate_the_profile__in_order_to_validate_against_it": "Unable to locate the profile '{0}' in order to "
                                                                     "validate against it",
    "TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE": "Example URLs are not allowed in this context ({0})",
    "TYPE_SPECIFIC_CHECKS_DT_ATT_SIZE_CORRECT": "Stated Attachment Size {0} does not match actual attachment size {1}",
    "TYPE_SPECIFIC_CHECKS_DT_ATT_NO_CONTENT": "Attachments have data and/or url, or else SHOULD have either contentType "
                                              "and/or language",
    "cg-attachment-hash": "Stated Attachment hash {0} is not the SHA-1 of the data ({1})",
}


def text(rule: str, *args: Any) -> str:
    """The wording of ``rule`` with its parameters filled in."""
    return TEXTS[rule].format(*args)
